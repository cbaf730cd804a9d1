/* Host tests for config.c: argv vectors against expected fields and golden error lines.
 * Runs on the build host under cmocka; needs no /dev/kvm. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

#define KiB 1024ULL
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define TiB (1024 * GiB)
#define MAX_ARGS 16
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* argv (without argv[0]) that must parse, and what it must give. Zero fields in
 * @want stand for the defaults: 512 MiB, one CPU in 1 socket/core/thread, append "". */
struct good {
	const char *argv[MAX_ARGS];
	struct config want;
};

/* argv that must be refused with exactly @err. */
struct bad {
	const char *argv[MAX_ARGS];
	const char *err;
};

static const struct good goods[] = {
	/* defaults */
	{{NULL}, {.serial = SERIAL_STDIO}},
	/* machine and accelerator */
	{{"-machine", "virt"}, {0}},
	{{"-machine", "type=virt"}, {0}},
	{{"-M", "virt"}, {0}},
	{{"--machine", "virt"}, {0}},
	{{"-machine", "virt,accel=kvm"}, {0}},
	{{"-machine", "accel=kvm"}, {0}},
	{{"-M", "virt", "-machine", "accel=kvm"}, {0}},
	{{"-accel", "kvm"}, {0}},
	{{"-accel", "accel=kvm"}, {0}},
	{{"--accel", "kvm"}, {0}},
	{{"-enable-kvm"}, {0}},
	{{"--enable-kvm"}, {0}},
	{{"-cpu", "host"}, {0}},
	/* memory sizes */
	{{"-m", "1024"}, {.ram_size = GiB}},
	{{"-m", "1024M"}, {.ram_size = GiB}},
	{{"-m", "1024m"}, {.ram_size = GiB}},
	{{"-m", "1G"}, {.ram_size = GiB}},
	{{"-m", "1g"}, {.ram_size = GiB}},
	{{"-m", "1048576K"}, {.ram_size = GiB}},
	{{"-m", "1048576k"}, {.ram_size = GiB}},
	{{"-m", "1073741824B"}, {.ram_size = GiB}},
	{{"-m", "2T"}, {.ram_size = 2 * TiB}},
	{{"-m", "size=2G"}, {.ram_size = 2 * GiB}},
	{{"--m", "3G"}, {.ram_size = 3 * GiB}},
	{{"-m", "32"}, {.ram_size = 32 * MiB}},
	{{"-m", "32M"}, {.ram_size = 32 * MiB}},
	{{"-m", "33554433B"}, {.ram_size = 32 * MiB + 4 * KiB}},
	{{"-m", "32769K"}, {.ram_size = 32 * MiB + 4 * KiB}},
	{{"-m", "16777215T"}, {.ram_size = 16777215 * TiB}},
	{{"-m", "1G", "-m", "2G"}, {.ram_size = 2 * GiB}},
	/* CPUs and topology */
	{{"-smp", "4"}, {.cpus = 4, .max_cpus = 4, .cores = 4}},
	{{"-smp", "cpus=4"}, {.cpus = 4, .max_cpus = 4, .cores = 4}},
	{{"--smp", "1"}, {.cpus = 1, .max_cpus = 1}},
	{{"-smp", "1024"}, {.cpus = 1024, .max_cpus = 1024, .cores = 1024}},
	{{"-smp", "2,maxcpus=8"}, {.cpus = 2, .max_cpus = 8, .cores = 8}},
	{{"-smp", "maxcpus=8"}, {.cpus = 8, .max_cpus = 8, .cores = 8}},
	{{"-smp", "8,sockets=2"}, {.cpus = 8, .max_cpus = 8, .sockets = 2, .cores = 4}},
	{{"-smp", "8,cores=2"}, {.cpus = 8, .max_cpus = 8, .sockets = 4, .cores = 2}},
	{{"-smp", "8,threads=2"}, {.cpus = 8, .max_cpus = 8, .cores = 4, .threads = 2}},
	{{"-smp", "8,sockets=2,cores=2,threads=2"},
	 {.cpus = 8, .max_cpus = 8, .sockets = 2, .cores = 2, .threads = 2}},
	{{"-smp", "sockets=2,cores=2,threads=2"},
	 {.cpus = 8, .max_cpus = 8, .sockets = 2, .cores = 2, .threads = 2}},
	{{"-smp", "4,sockets=2,cores=2,threads=2"},
	 {.cpus = 4, .max_cpus = 8, .sockets = 2, .cores = 2, .threads = 2}},
	{{"-smp", "2,maxcpus=4,sockets=2,cores=2"},
	 {.cpus = 2, .max_cpus = 4, .sockets = 2, .cores = 2}},
	{{"-smp", "4,sockets=8"}, {.cpus = 4, .max_cpus = 8, .sockets = 8}},
	{{"-smp", "2", "-smp", "4"}, {.cpus = 4, .max_cpus = 4, .cores = 4}},
	{{"-smp", "2", "-smp", "maxcpus=4"}, {.cpus = 2, .max_cpus = 4, .cores = 4}},
	{{"-smp", "2,cpus=3"}, {.cpus = 3, .max_cpus = 3, .cores = 3}},
	/* name */
	{{"-name", "vm1"}, {.name = "vm1"}},
	{{"-name", "guest=vm1"}, {.name = "vm1"}},
	{{"-name", "a,,b"}, {.name = "a,b"}},
	{{"-name", "a", "-name", "b"}, {.name = "b"}},
	/* serial */
	{{"-serial", "stdio"}, {.serial = SERIAL_STDIO}},
	{{"-serial", "none"}, {.serial = SERIAL_NONE}},
	{{"-serial", "file:/tmp/out"}, {.serial = SERIAL_FILE, .serial_path = "/tmp/out"}},
	{{"-serial", "file:/tmp/a,b=c"}, {.serial = SERIAL_FILE, .serial_path = "/tmp/a,b=c"}},
	{{"-serial", "unix:/tmp/s,server=on,wait=off"},
	 {.serial = SERIAL_UNIX, .serial_path = "/tmp/s"}},
	{{"--serial", "unix:/tmp/s,wait=off,server=on"},
	 {.serial = SERIAL_UNIX, .serial_path = "/tmp/s"}},
	{{"-serial", "unix:path=/tmp/s,server=on,wait=off"},
	 {.serial = SERIAL_UNIX, .serial_path = "/tmp/s"}},
	{{"-serial", "unix:/tmp/s,server,nowait"},
	 {.serial = SERIAL_UNIX, .serial_path = "/tmp/s"}},
	{{"-serial", "unix:/tmp/s,server=yes,wait=no"},
	 {.serial = SERIAL_UNIX, .serial_path = "/tmp/s"}},
	{{"-serial", "unix:/tmp/s,server=y,wait=n"},
	 {.serial = SERIAL_UNIX, .serial_path = "/tmp/s"}},
	{{"-serial", "unix:/tmp/s,server=true,wait=false"},
	 {.serial = SERIAL_UNIX, .serial_path = "/tmp/s"}},
	{{"-serial", "unix:/tmp/a,,b,server=on,wait=off"},
	 {.serial = SERIAL_UNIX, .serial_path = "/tmp/a,b"}},
	{{"-serial", "unix:/tmp/s,server=on,wait=off,"},
	 {.serial = SERIAL_UNIX, .serial_path = "/tmp/s"}},
	/* display */
	{{"-nographic"}, {0}},
	{{"--nographic"}, {0}},
	{{"-display", "none"}, {0}},
	{{"-nographic", "-display", "none"}, {0}},
	/* boot */
	{{"-kernel", "vmlinux"}, {.kernel = "vmlinux"}},
	{{"--kernel", "bzImage"}, {.kernel = "bzImage"}},
	{{"-kernel", "a", "-kernel", "b"}, {.kernel = "b"}},
	{{"-initrd", "initrd.img"}, {.initrd = "initrd.img"}},
	{{"-append", "console=ttyS0 quiet"}, {.append = "console=ttyS0 quiet"}},
	{{"-append", "a,b=c"}, {.append = "a,b=c"}},
	{{"-append", "-no-reboot"}, {.append = "-no-reboot"}},
	{{"-append", "x", "-append", "y"}, {.append = "y"}},
	{{"-bios", "fw.elf"}, {.bios = "fw.elf"}},
	{{"-pidfile", "/run/wisp.pid"}, {.pidfile = "/run/wisp.pid"}},
	/* debug and expert */
	{{"-no-reboot"}, {.no_reboot = true}},
	{{"-boot-timeline"}, {.timeline = true}},
	{{"--boot-timeline"}, {.timeline = true}},
	{{"-device", "isa-debug-exit"}, {.debug_exit = true}},
	{{"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"}, {.debug_exit = true}},
	{{"-device", "isa-debug-exit,iobase=244,iosize=4"}, {.debug_exit = true}},
	{{"-device", "isa-debug-exit,iosize=0x4"}, {.debug_exit = true}},
	{{"-device", "driver=isa-debug-exit"}, {.debug_exit = true}},
	{{"-device", "iobase=0xf4,driver=isa-debug-exit"}, {.debug_exit = true}},
	{{"--device", "isa-debug-exit"}, {.debug_exit = true}},
	/* help and version stop the parse */
	{{"-h"}, {.help = true}},
	{{"-help"}, {.help = true}},
	{{"--help"}, {.help = true}},
	{{"-version"}, {.version = true}},
	{{"--version"}, {.version = true}},
	{{"-h", "-usb"}, {.help = true}},
	{{"--version", "-kernel"}, {.version = true}},
	{{"-smp", "4,maxcpus=2", "-h"}, {.help = true}},
	{{"-m", "1G", "--help"}, {.ram_size = GiB, .help = true}},
	/* everything at once */
	{{"-M", "virt,accel=kvm", "-cpu", "host", "-m", "2G", "-smp", "2", "-kernel", "vmlinux",
	  "-append", "console=ttyS0", "-nographic", "-no-reboot"},
	 {.ram_size = 2 * GiB,
	  .cpus = 2,
	  .max_cpus = 2,
	  .cores = 2,
	  .kernel = "vmlinux",
	  .append = "console=ttyS0",
	  .no_reboot = true}},
};

static const struct bad bads[] = {
	/* options */
	{{"-usb"}, "wisp: -usb: unsupported option"},
	{{"--usb"}, "wisp: --usb: unsupported option"},
	{{"-"}, "wisp: -: unsupported option"},
	{{"--"}, "wisp: --: unsupported option"},
	{{"---kernel", "x"}, "wisp: ---kernel: unsupported option"},
	{{"--kernel=vmlinux"}, "wisp: --kernel=vmlinux: unsupported option"},
	{{"-KERNEL", "x"}, "wisp: -KERNEL: unsupported option"},
	{{"-drive", "file=disk.img"}, "wisp: -drive: unsupported option"},
	{{"-netdev", "user,id=n0"}, "wisp: -netdev: unsupported option"},
	{{"-s"}, "wisp: -s: unsupported option"},
	{{"disk.img"}, "wisp: disk.img: unexpected argument (not an option)"},
	{{"-kernel", "vmlinux", "disk.img"}, "wisp: disk.img: unexpected argument (not an option)"},
	{{"-usb", "-h"}, "wisp: -usb: unsupported option"},
	{{"-kernel"}, "wisp: -kernel: needs an argument"},
	{{"--kernel"}, "wisp: --kernel: needs an argument"},
	{{"-m", "1G", "-smp"}, "wisp: -smp: needs an argument"},
	/* machine, accelerator, cpu */
	{{"-machine", "pc"}, "wisp: -machine pc: unsupported machine type 'pc' (only 'virt')"},
	{{"-M", "q35"}, "wisp: -M q35: unsupported machine type 'q35' (only 'virt')"},
	{{"-machine", "type=microvm"},
	 "wisp: -machine type=microvm: unsupported machine type 'microvm' (only 'virt')"},
	{{"-machine", "help"},
	 "wisp: -machine help: unsupported machine type 'help' (only 'virt')"},
	{{"-machine", ""}, "wisp: -machine : unsupported machine type '' (only 'virt')"},
	{{"-machine", "virt,accel=tcg"},
	 "wisp: -machine virt,accel=tcg: unsupported accelerator 'tcg' (only 'kvm')"},
	{{"-machine", "virt,accel=kvm:tcg"},
	 "wisp: -machine virt,accel=kvm:tcg: unsupported accelerator 'kvm:tcg' (only 'kvm')"},
	{{"-machine", "virt,kernel-irqchip=split"},
	 "wisp: -machine virt,kernel-irqchip=split: unsupported parameter 'kernel-irqchip'"},
	{{"-accel", "tcg"}, "wisp: -accel tcg: unsupported accelerator 'tcg' (only 'kvm')"},
	{{"-accel", "accel=hvf"},
	 "wisp: -accel accel=hvf: unsupported accelerator 'hvf' (only 'kvm')"},
	{{"-accel", "kvm,dirty-ring-size=4096"},
	 "wisp: -accel kvm,dirty-ring-size=4096: unsupported parameter 'dirty-ring-size'"},
	{{"-cpu", "max"}, "wisp: -cpu max: unsupported CPU model (only 'host')"},
	{{"-cpu", "hostx"}, "wisp: -cpu hostx: unsupported CPU model (only 'host')"},
	{{"-cpu", "qemu64,+x2apic"}, "wisp: -cpu qemu64: unsupported CPU model (only 'host')"},
	{{"-cpu", "host,+x2apic"},
	 "wisp: -cpu host,+x2apic: CPU properties and feature flags are not supported"},
	{{"-cpu", "host,pmu=off"},
	 "wisp: -cpu host,pmu=off: CPU properties and feature flags are not supported"},
	/* memory */
	{{"-m", "0"}, "wisp: -m 0: too little memory (the minimum is 32 MiB)"},
	{{"-m", "31"}, "wisp: -m 31: too little memory (the minimum is 32 MiB)"},
	{{"-m", "32767K"}, "wisp: -m 32767K: too little memory (the minimum is 32 MiB)"},
	{{"-m", "size=0G"}, "wisp: -m size=0G: too little memory (the minimum is 32 MiB)"},
	{{"-m", "99999999999T"}, "wisp: -m 99999999999T: size too large"},
	{{"-m", "16777216T"}, "wisp: -m 16777216T: size too large"},
	{{"-m", "17592186044416"}, "wisp: -m 17592186044416: size too large"},
	{{"-m", "18446744073709551615B"}, "wisp: -m 18446744073709551615B: size too large"},
	{{"-m", "99999999999999999999"}, "wisp: -m 99999999999999999999: size too large"},
	{{"-m", "1X"},
	 "wisp: -m 1X: bad size (a number with an optional B, K, M, G or T suffix; no suffix means "
	 "MiB)"},
	{{"-m", "1.5G"},
	 "wisp: -m 1.5G: bad size (a number with an optional B, K, M, G or T suffix; no suffix "
	 "means MiB)"},
	{{"-m", "1GB"},
	 "wisp: -m 1GB: bad size (a number with an optional B, K, M, G or T suffix; no suffix "
	 "means MiB)"},
	{{"-m", "-1"},
	 "wisp: -m -1: bad size (a number with an optional B, K, M, G or T suffix; no suffix means "
	 "MiB)"},
	{{"-m", " 1G"},
	 "wisp: -m  1G: bad size (a number with an optional B, K, M, G or T suffix; no suffix "
	 "means MiB)"},
	{{"-m", "G"},
	 "wisp: -m G: bad size (a number with an optional B, K, M, G or T suffix; no suffix means "
	 "MiB)"},
	{{"-m", ""},
	 "wisp: -m : bad size (a number with an optional B, K, M, G or T suffix; no suffix means "
	 "MiB)"},
	{{"-m", "1G,slots=2"}, "wisp: -m 1G,slots=2: memory hotplug is not supported ('slots')"},
	{{"-m", "1G,maxmem=4G"},
	 "wisp: -m 1G,maxmem=4G: memory hotplug is not supported ('maxmem')"},
	{{"-m", "1G,slots=2,maxmem=4G"},
	 "wisp: -m 1G,slots=2,maxmem=4G: memory hotplug is not supported ('slots')"},
	{{"-m", "1G,foo=1"}, "wisp: -m 1G,foo=1: unsupported parameter 'foo'"},
	{{"-m", "1G", "-m", "1"}, "wisp: -m 1: too little memory (the minimum is 32 MiB)"},
	/* CPUs */
	{{"-smp", "0"}, "wisp: -smp 0: cpus must be a number from 1 to 4096"},
	{{"-smp", "4097"}, "wisp: -smp 4097: cpus must be a number from 1 to 4096"},
	{{"-smp", "x"}, "wisp: -smp x: cpus must be a number from 1 to 4096"},
	{{"-smp", "-1"}, "wisp: -smp -1: cpus must be a number from 1 to 4096"},
	{{"-smp", ""}, "wisp: -smp : cpus must be a number from 1 to 4096"},
	{{"-smp", "0x4"}, "wisp: -smp 0x4: cpus must be a number from 1 to 4096"},
	{{"-smp", "99999999999999999999999"},
	 "wisp: -smp 99999999999999999999999: cpus must be a number from 1 to 4096"},
	{{"-smp", "4,maxcpus=0"},
	 "wisp: -smp 4,maxcpus=0: maxcpus must be a number from 1 to 4096"},
	{{"-smp", "4,maxcpus=4097"},
	 "wisp: -smp 4,maxcpus=4097: maxcpus must be a number from 1 to 4096"},
	{{"-smp", "4,cores=0"}, "wisp: -smp 4,cores=0: cores must be a number from 1 to 4096"},
	{{"-smp", "sockets=5000"},
	 "wisp: -smp sockets=5000: sockets must be a number from 1 to 4096"},
	{{"-smp", "threads=x"}, "wisp: -smp threads=x: threads must be a number from 1 to 4096"},
	{{"-smp", "4,dies=2"}, "wisp: -smp 4,dies=2: unsupported parameter 'dies'"},
	{{"-smp", "4,clusters=2"}, "wisp: -smp 4,clusters=2: unsupported parameter 'clusters'"},
	{{"-smp", "cpus=4,maxcpus=2"}, "wisp: -smp: maxcpus (2) must be at least cpus (4)"},
	{{"-smp", "4", "-smp", "maxcpus=2"}, "wisp: -smp: maxcpus (2) must be at least cpus (4)"},
	{{"-smp", "8,maxcpus=8,sockets=3"},
	 "wisp: -smp: sockets (3) * cores (2) * threads (1) must equal maxcpus (8)"},
	{{"-smp", "4,sockets=2,cores=2,threads=2,maxcpus=4"},
	 "wisp: -smp: sockets (2) * cores (2) * threads (2) must equal maxcpus (4)"},
	{{"-smp", "4,sockets=3"},
	 "wisp: -smp: sockets (3) * cores (1) * threads (1) is fewer than cpus (4)"},
	{{"-smp", "8,sockets=2,cores=2,threads=1"},
	 "wisp: -smp: sockets (2) * cores (2) * threads (1) is fewer than cpus (8)"},
	{{"-smp", "sockets=4096,cores=2"},
	 "wisp: -smp: sockets (4096) * cores (2) * threads (1) is more than 4096 CPUs"},
	{{"-smp", "4,sockets=1024,cores=1024,threads=1024"},
	 "wisp: -smp: sockets (1024) * cores (1024) * threads (1024) is more than 4096 CPUs"},
	/* name */
	{{"-name", "vm1,debug-threads=on"},
	 "wisp: -name vm1,debug-threads=on: unsupported parameter 'debug-threads'"},
	{{"-name", "process=wisp-vm1"},
	 "wisp: -name process=wisp-vm1: unsupported parameter 'process'"},
	{{"-name", "a,b"}, "wisp: -name a,b: unsupported parameter 'b'"},
	{{"-name", "a b=c"}, "wisp: -name a b=c: unsupported parameter 'a b'"},
	{{"-name", "vm1,nodebug-threads"},
	 "wisp: -name vm1,nodebug-threads: unsupported parameter 'debug-threads'"},
	/* serial */
	{{"-serial", "pty"},
	 "wisp: -serial pty: unsupported serial backend (use stdio, file:PATH, "
	 "unix:PATH,server=on,wait=off or none)"},
	{{"-serial", "mon:stdio"},
	 "wisp: -serial mon:stdio: unsupported serial backend (use stdio, file:PATH, "
	 "unix:PATH,server=on,wait=off or none)"},
	{{"-serial", "tcp::4444,server=on,wait=off"},
	 "wisp: -serial tcp::4444,server=on,wait=off: unsupported serial backend (use stdio, "
	 "file:PATH, unix:PATH,server=on,wait=off or none)"},
	{{"-serial", ""},
	 "wisp: -serial : unsupported serial backend (use stdio, file:PATH, "
	 "unix:PATH,server=on,wait=off or none)"},
	{{"-serial", "file:"}, "wisp: -serial file:: empty file name"},
	{{"-serial", "unix:/tmp/s"},
	 "wisp: -serial unix:/tmp/s: unix sockets need server=on,wait=off"},
	{{"-serial", "unix:/tmp/s,server=on"},
	 "wisp: -serial unix:/tmp/s,server=on: unix sockets need server=on,wait=off"},
	{{"-serial", "unix:/tmp/s,wait=off"},
	 "wisp: -serial unix:/tmp/s,wait=off: unix sockets need server=on,wait=off"},
	{{"-serial", "unix:/tmp/s,server=on,wait=on"},
	 "wisp: -serial unix:/tmp/s,server=on,wait=on: unix sockets need server=on,wait=off"},
	{{"-serial", "unix:/tmp/s,server=off,wait=off"},
	 "wisp: -serial unix:/tmp/s,server=off,wait=off: unix sockets need server=on,wait=off"},
	{{"-serial", "unix:/tmp/s,server=maybe,wait=off"},
	 "wisp: -serial unix:/tmp/s,server=maybe,wait=off: server must be on or off"},
	{{"-serial", "unix:/tmp/s,server=on,wait=0"},
	 "wisp: -serial unix:/tmp/s,server=on,wait=0: wait must be on or off"},
	{{"-serial", "unix:/tmp/s,server=on,wait=off,reconnect=1"},
	 "wisp: -serial unix:/tmp/s,server=on,wait=off,reconnect=1: unsupported parameter "
	 "'reconnect'"},
	{{"-serial", "unix:,server=on,wait=off"},
	 "wisp: -serial unix:,server=on,wait=off: empty socket path"},
	{{"-serial", "unix:"}, "wisp: -serial unix:: empty socket path"},
	{{"-serial", "stdio", "-serial", "none"},
	 "wisp: -serial none: only one -serial is supported (wisp has one serial port)"},
	{{"-serial", "none", "-serial", "stdio"},
	 "wisp: -serial stdio: only one -serial is supported (wisp has one serial port)"},
	/* display */
	{{"-display", "gtk"},
	 "wisp: -display gtk: only -display none is supported (wisp has no display)"},
	{{"-display", "none,gl=on"},
	 "wisp: -display none,gl=on: only -display none is supported (wisp has no display)"},
	/* boot files */
	{{"-kernel", ""}, "wisp: -kernel: empty file name"},
	{{"-initrd", ""}, "wisp: -initrd: empty file name"},
	{{"-bios", ""}, "wisp: -bios: empty file name"},
	{{"-pidfile", ""}, "wisp: -pidfile: empty file name"},
	/* devices */
	{{"-device", "virtio-net-pci"}, "wisp: -device virtio-net-pci: unsupported device"},
	{{"-device", "virtio-net-pci,netdev=n0"},
	 "wisp: -device virtio-net-pci: unsupported device"},
	{{"-device", "driver=e1000,iobase=0xf4"}, "wisp: -device e1000: unsupported device"},
	{{"-device", "help"}, "wisp: -device help: unsupported device"},
	{{"-device", "iobase=0xf4"}, "wisp: -device iobase=0xf4: no device named"},
	{{"-device", ""}, "wisp: -device : no device named"},
	{{"-device", "isa-debug-exit,iobase=0x501"},
	 "wisp: -device isa-debug-exit,iobase=0x501: only iobase=0xf4 is supported"},
	{{"-device", "isa-debug-exit,iobase="},
	 "wisp: -device isa-debug-exit,iobase=: only iobase=0xf4 is supported"},
	{{"-device", "isa-debug-exit,iobase=zz"},
	 "wisp: -device isa-debug-exit,iobase=zz: only iobase=0xf4 is supported"},
	{{"-device", "isa-debug-exit,iobase=0xf4,iosize=2"},
	 "wisp: -device isa-debug-exit,iobase=0xf4,iosize=2: only iosize=0x04 is supported"},
	{{"-device", "isa-debug-exit,id=exit0"},
	 "wisp: -device isa-debug-exit,id=exit0: unsupported parameter 'id'"},
	{{"-device", "isa-debug-exit", "-device", "isa-debug-exit"},
	 "wisp: -device isa-debug-exit: only one isa-debug-exit is supported"},
	{{"-device", "isa-debug-exit", "-device", "virtio-blk-pci,drive=d0"},
	 "wisp: -device virtio-blk-pci: unsupported device"},
	/* QMP monitors */
	{{"-qmp", "tcp:localhost:4444"},
	 "wisp: -qmp tcp:localhost:4444: only unix:PATH,server=on,wait=off is supported"},
	{{"-qmp", "unix:/tmp/q"}, "wisp: -qmp unix:/tmp/q: unix sockets need server=on,wait=off"},
	{{"-qmp", "unix:/tmp/q,server=on,wait=off,x=1"},
	 "wisp: -qmp unix:/tmp/q,server=on,wait=off,x=1: unsupported parameter 'x'"},
	{{"-chardev", "stdio,id=c"},
	 "wisp: -chardev stdio,id=c: only the socket backend is supported"},
	{{"-chardev", "socket,path=/tmp/q,server=on,wait=off"},
	 "wisp: -chardev socket,path=/tmp/q,server=on,wait=off: needs id="},
	{{"-chardev", "socket,id=c,path=/a,server=on,wait=off", "-chardev",
	  "socket,id=c,path=/b,server=on,wait=off"},
	 "wisp: -chardev socket,id=c,path=/b,server=on,wait=off: duplicate chardev id"},
	{{"-mon", "chardev=c,mode=control"}, "wisp: -mon: chardev 'c' not found"},
	{{"-mon", "c"}, "wisp: -mon c: only mode=control (QMP) is supported"},
	{{"-mon", "c,mode=readline"},
	 "wisp: -mon c,mode=readline: only mode=control (QMP) is supported"},
	{{"-qmp"}, "wisp: -qmp: needs an argument"},
	{{"-sandbox", "spawn=deny"}, "wisp: -sandbox spawn=deny: unsupported parameter 'spawn'"},
	{{"-sandbox", "maybe"}, "wisp: -sandbox maybe: enable must be on or off"},
	{{"-runas", ""}, "wisp: -runas: empty user name"},
	{{"-chroot", ""}, "wisp: -chroot: empty file name"},
};

/* Options that take an argument: each must say so when it comes last. */
static const char *const with_arg[] = {
	"-machine", "-M",      "-cpu",	  "-accel",  "-smp",  "-m",	  "-name",   "-serial",
	"-display", "-kernel", "-append", "-initrd", "-bios", "-pidfile", "-device",
};

static int build_argv(const char *const *args, char **argv)
{
	int argc = 0;

	argv[argc++] = (char *)"wisp";
	while (argc <= MAX_ARGS && args[argc - 1]) {
		argv[argc] = (char *)args[argc - 1];
		argc++;
	}
	argv[argc] = NULL;
	return argc;
}

static void check_str(const char *field, const char *got, const char *want)
{
	if (!got != !want || (got && strcmp(got, want)))
		fail_msg("%s: got \"%s\", want \"%s\"", field, got ? got : "(null)",
			 want ? want : "(null)");
}

static void check_num(const char *field, unsigned long long got, unsigned long long want)
{
	if (got != want)
		fail_msg("%s: got %llu, want %llu", field, got, want);
}

#define DEFAULT_TO(field, def) (w->field ? w->field : (def))

static void check_config(const struct config *c, const struct config *w)
{
	check_str("kernel", c->kernel, w->kernel);
	check_str("initrd", c->initrd, w->initrd);
	check_str("append", c->append, DEFAULT_TO(append, ""));
	check_str("bios", c->bios, w->bios);
	check_str("name", c->name, w->name);
	check_str("pidfile", c->pidfile, w->pidfile);
	check_num("ram_size", c->ram_size, DEFAULT_TO(ram_size, 512 * MiB));
	check_num("cpus", c->cpus, DEFAULT_TO(cpus, 1));
	check_num("max_cpus", c->max_cpus, DEFAULT_TO(max_cpus, 1));
	check_num("sockets", c->sockets, DEFAULT_TO(sockets, 1));
	check_num("cores", c->cores, DEFAULT_TO(cores, 1));
	check_num("threads", c->threads, DEFAULT_TO(threads, 1));
	check_num("serial", c->serial, w->serial);
	check_str("serial_path", c->serial_path, w->serial_path);
	check_num("no_reboot", c->no_reboot, w->no_reboot);
	check_num("debug_exit", c->debug_exit, w->debug_exit);
	check_num("timeline", c->timeline, w->timeline);
	check_num("help", c->help, w->help);
	check_num("version", c->version, w->version);
}

static void test_good(void **state)
{
	const struct good *g = *state;
	char *argv[MAX_ARGS + 2], err[512] = "stale";
	struct config c;
	int argc = build_argv(g->argv, argv);
	int r;

	memset(&c, 0xa5, sizeof(c));
	r = config_parse(&c, argc, argv, err, sizeof(err));
	if (r)
		fail_msg("returned %d: %s", r, err);
	check_config(&c, &g->want);
}

static void test_bad(void **state)
{
	const struct bad *b = *state;
	char *argv[MAX_ARGS + 2], err[512];
	struct config c;
	int argc = build_argv(b->argv, argv);

	memset(err, 'x', sizeof(err));
	assert_int_equal(config_parse(&c, argc, argv, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, b->err);
}

static void test_missing_argument(void **state)
{
	char dashed[32], want[64], err[128];
	char *argv[3] = {(char *)"wisp", NULL, NULL};
	struct config c;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(with_arg); i++) {
		for (int dashes = 0; dashes < 2; dashes++) {
			snprintf(dashed, sizeof(dashed), "%s%s", dashes ? "-" : "", with_arg[i]);
			snprintf(want, sizeof(want), "wisp: %s: needs an argument", dashed);
			argv[1] = dashed;
			assert_int_equal(config_parse(&c, 2, argv, err, sizeof(err)), -EINVAL);
			assert_string_equal(err, want);
		}
	}
}

/* argc, not a NULL in argv, ends the vector. */
static void test_argc_respected(void **state)
{
	char *argv[] = {(char *)"wisp", (char *)"-kernel", (char *)"vmlinux", NULL};
	char err[128];
	struct config c;

	(void)state;
	assert_int_equal(config_parse(&c, 2, argv, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "wisp: -kernel: needs an argument");
	assert_int_equal(config_parse(&c, 1, argv, err, sizeof(err)), 0);
	assert_null(c.kernel);
}

/* The parser neither writes argv nor keeps pointers to its own stack. */
static void test_argv_untouched(void **state)
{
	char a1[] = "-serial", a2[] = "unix:/tmp/a,,b,server=on,wait=off";
	char a3[] = "-name", a4[] = "guest=vm,,1", a5[] = "-kernel", a6[] = "vmlinux";
	char *argv[] = {(char *)"wisp", a1, a2, a3, a4, a5, a6, NULL};
	char err[128];
	struct config c;

	(void)state;
	assert_int_equal(config_parse(&c, 7, argv, err, sizeof(err)), 0);
	assert_string_equal(a2, "unix:/tmp/a,,b,server=on,wait=off");
	assert_string_equal(a4, "guest=vm,,1");
	assert_ptr_equal(c.kernel, a6);
	memset(a2, 'z', sizeof(a2) - 1);
	memset(a4, 'z', sizeof(a4) - 1);
	assert_string_equal(c.serial_path, "/tmp/a,b");
	assert_string_equal(c.name, "vm,1");
}

static void expect_parse(const char *opt, const char *arg, const char *want_err)
{
	char *argv[] = {(char *)"wisp", (char *)opt, (char *)arg, NULL};
	char err[256];
	struct config c;
	int r = config_parse(&c, 3, argv, err, sizeof(err));

	if (!want_err && r)
		fail_msg("%s <%zu bytes>: %s", opt, strlen(arg), err);
	if (want_err) {
		assert_int_equal(r, -EINVAL);
		assert_string_equal(err, want_err);
	}
}

/* Copied values have bounds: name 255 bytes, unix path 107, sub-option lists 1023. */
static void test_length_limits(void **state)
{
	char name[300], path[200], sock[300], err[400], big[1100];

	(void)state;
	memset(name, 'n', sizeof(name));
	name[255] = '\0';
	expect_parse("-name", name, NULL);
	name[255] = 'n';
	name[256] = '\0';
	expect_parse("-name", name, "wisp: -name: name longer than 255 bytes");

	memset(path, 'p', sizeof(path));
	path[107] = '\0';
	snprintf(sock, sizeof(sock), "unix:%s,server=on,wait=off", path);
	expect_parse("-serial", sock, NULL);
	path[107] = 'p';
	path[108] = '\0';
	snprintf(sock, sizeof(sock), "unix:%s,server=on,wait=off", path);
	snprintf(err, sizeof(err), "wisp: -serial %s: socket path longer than 107 bytes", sock);
	expect_parse("-serial", sock, err);

	memset(big, 'b', sizeof(big));
	big[1023] = '\0';
	expect_parse("-name", big, "wisp: -name: name longer than 255 bytes");
	big[1023] = 'b';
	big[1024] = '\0';
	expect_parse("-name", big, "wisp: -name: argument too long (at most 1023 bytes)");
	memcpy(big, "unix:", 5);
	expect_parse("-serial", big, "wisp: -serial: argument too long (at most 1023 bytes)");
}

/* err is always terminated and never overrun, whatever its size. */
static void test_err_buffer(void **state)
{
	char *argv[] = {(char *)"wisp", (char *)"-usb", NULL};
	char err[16];
	struct config c;

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(config_parse(&c, 2, argv, err, 8), -EINVAL);
	assert_string_equal(err, "wisp: -");
	assert_int_equal(err[8], 'x');
	memset(err, 'x', sizeof(err));
	assert_int_equal(config_parse(&c, 2, argv, err, 1), -EINVAL);
	assert_string_equal(err, "");
	assert_int_equal(err[1], 'x');
	assert_int_equal(config_parse(&c, 2, argv, NULL, 0), -EINVAL);
	strcpy(err, "stale");
	assert_int_equal(config_parse(&c, 1, argv, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

/* A second parse into the same structure starts again from the defaults. */
static void test_reparse(void **state)
{
	char *argv[] = {(char *)"wisp", (char *)"-kernel", (char *)"k", (char *)"-no-reboot",
			(char *)"-smp", (char *)"4",	   NULL};
	char err[128];
	struct config c, defaults = {0};

	(void)state;
	assert_int_equal(config_parse(&c, 6, argv, err, sizeof(err)), 0);
	assert_int_equal(c.cpus, 4);
	assert_int_equal(config_parse(&c, 1, argv, err, sizeof(err)), 0);
	check_config(&c, &defaults);
}

/* --help names every option and fits a terminal. */
/* Monitors keep their command-line order; -mon finds its -chardev wherever it is. */
static void test_monitors(void **state)
{
	const char *argv[] = {"wisp",
			      "-mon",
			      "chardev=m0,mode=control",
			      "-qmp",
			      "unix:/tmp/a,server,nowait",
			      "-chardev",
			      "socket,id=m0,path=/tmp/b,server=on,wait=off",
			      "-S"};
	struct config c;
	char err[256];

	assert_int_equal(config_parse(&c, 8, (char **)argv, err, sizeof(err)), 0);
	assert_true(c.start_paused);
	assert_int_equal(c.nr_monitors, 2);
	assert_string_equal(c.monitors[0], "/tmp/b");
	assert_string_equal(c.monitor_labels[0], "m0");
	assert_string_equal(c.monitors[1], "/tmp/a");
	assert_string_equal(c.monitor_labels[1], "compat_monitor0");
}

static void test_sandbox_switch(void **state)
{
	const char *on[] = {"wisp"}, *off[] = {"wisp", "-sandbox", "off"};
	const char *again[] = {"wisp", "-sandbox", "off", "-sandbox", "enable=on"};
	struct config c;
	char err[256];

	assert_int_equal(config_parse(&c, 1, (char **)on, err, sizeof(err)), 0);
	assert_true(c.sandbox);
	assert_int_equal(config_parse(&c, 3, (char **)off, err, sizeof(err)), 0);
	assert_false(c.sandbox);
	assert_int_equal(config_parse(&c, 5, (char **)again, err, sizeof(err)), 0);
	assert_true(c.sandbox);
}

static void test_usage(void **state)
{
	static const char *const names[] = {
		"-h ",
		"-help",
		"-version",
		"-machine",
		"-M ",
		"-cpu host",
		"-accel kvm",
		"-enable-kvm",
		"-smp",
		"maxcpus=",
		"sockets=",
		"cores=",
		"threads=",
		"-m ",
		"-name",
		"-serial",
		"stdio",
		"file:",
		"unix:",
		"server=on,wait=off",
		"none",
		"-nographic",
		"-display none",
		"-kernel",
		"-append",
		"-initrd",
		"-bios",
		"-no-reboot",
		"-pidfile",
		"-device isa-debug-exit",
		"iobase=0xf4",
		"iosize=0x04",
		"-boot-timeline",
	};
	const char *u = config_usage(), *line, *nl;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strstr(u, names[i]))
			fail_msg("usage lacks \"%s\"", names[i]);
	}
	for (line = u; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		if (nl - line > 80)
			fail_msg("usage line longer than 80 columns: %.*s", (int)(nl - line), line);
	}
}

static void label_argv(char *buf, size_t len, const char *kind, const char *const *args)
{
	size_t n = snprintf(buf, len, "%s:", kind);

	for (int i = 0; i < MAX_ARGS && args[i] && n < len; i++)
		n += snprintf(buf + n, len - n, " '%s'", args[i]);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_missing_argument),
		cmocka_unit_test(test_argc_respected),
		cmocka_unit_test(test_argv_untouched),
		cmocka_unit_test(test_length_limits),
		cmocka_unit_test(test_err_buffer),
		cmocka_unit_test(test_reparse),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_monitors),
		cmocka_unit_test(test_sandbox_switch),
	};
	enum { N = ARRAY_SIZE(fixed) + ARRAY_SIZE(goods) + ARRAY_SIZE(bads) };
	static struct CMUnitTest tests[N];
	static char labels[N][200];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		tests[n++] = fixed[i];
	for (size_t i = 0; i < ARRAY_SIZE(goods); i++, n++) {
		label_argv(labels[n], sizeof(labels[n]), "ok", goods[i].argv);
		tests[n] = (struct CMUnitTest){labels[n], test_good, NULL, NULL, (void *)&goods[i]};
	}
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++, n++) {
		label_argv(labels[n], sizeof(labels[n]), "refused", bads[i].argv);
		tests[n] = (struct CMUnitTest){labels[n], test_bad, NULL, NULL, (void *)&bads[i]};
	}
	return _cmocka_run_group_tests("config", tests, n, NULL, NULL);
}
