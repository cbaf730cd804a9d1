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
#define MAX_ARGS 24
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define UNSUPPORTED_DEVICE                                                                         \
	"unsupported device (wisp has virtio-blk-pci, virtio-net-pci, virtio-rng-pci, "            \
	"virtio-serial-pci, virtconsole, isa-debug-exit)"

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
	{{"-m", "255G"}, {.ram_size = 255 * GiB}},
	{{"-m", "261120"}, {.ram_size = 255 * GiB}},
	{{"-m", "267386877K"}, {.ram_size = 255 * GiB}},
	{{"-m", "size=2G"}, {.ram_size = 2 * GiB}},
	{{"--m", "3G"}, {.ram_size = 3 * GiB}},
	{{"-m", "32"}, {.ram_size = 32 * MiB}},
	{{"-m", "32M"}, {.ram_size = 32 * MiB}},
	{{"-m", "33554433B"}, {.ram_size = 32 * MiB + 4 * KiB}},
	{{"-m", "32769K"}, {.ram_size = 32 * MiB + 4 * KiB}},
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
	{{"-m", "256G"}, "wisp: -m 256G: too much memory (the maximum is 255 GiB)"},
	{{"-m", "261121"}, "wisp: -m 261121: too much memory (the maximum is 255 GiB)"},
	{{"-m", "267386881K"}, "wisp: -m 267386881K: too much memory (the maximum is 255 GiB)"},
	{{"-m", "2T"}, "wisp: -m 2T: too much memory (the maximum is 255 GiB)"},
	{{"-m", "16777215T"}, "wisp: -m 16777215T: too much memory (the maximum is 255 GiB)"},
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
	{{"-device", "driver=e1000,iobase=0xf4"}, "wisp: -device e1000: " UNSUPPORTED_DEVICE},
	{{"-device", "help"}, "wisp: -device help: " UNSUPPORTED_DEVICE},
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
	 "wisp: -device virtio-blk-pci,drive=d0: drive 'd0' not found"},
	/* -drive */
	{{"-drive", "file=disk.img"},
	 "wisp: -drive file=disk.img: no if= (QEMU's default, ide, is not supported): say "
	 "if=virtio or if=none"},
	{{"-drive", "file=disk.img,if=ide"},
	 "wisp: -drive file=disk.img,if=ide: if=ide is not supported (say if=virtio or if=none)"},
	{{"-drive", "file=disk.img,if=scsi"},
	 "wisp: -drive file=disk.img,if=scsi: if=scsi is not supported (say if=virtio or if=none)"},
	{{"-drive", "file=fw.fd,if=pflash"},
	 "wisp: -drive file=fw.fd,if=pflash: if=pflash is not supported (say if=virtio or "
	 "if=none)"},
	{{"-drive", "if=virtio"}, "wisp: -drive if=virtio: needs file="},
	{{"-drive", "file=,if=virtio"}, "wisp: -drive file=,if=virtio: empty file name"},
	{{"-drive", "disk.img"}, "wisp: -drive disk.img: unsupported parameter 'disk.img'"},
	{{"-drive", "file=a.vmdk,if=virtio,format=vmdk"},
	 "wisp: -drive file=a.vmdk,if=virtio,format=vmdk: format=vmdk is not supported (raw, "
	 "qcow2 or vpc)"},
	{{"-drive", "file=a,if=virtio,format=vhdx"},
	 "wisp: -drive file=a,if=virtio,format=vhdx: format=vhdx is not supported (raw, qcow2 or "
	 "vpc)"},
	{{"-drive", "file=a,if=virtio,format=QCOW2"},
	 "wisp: -drive file=a,if=virtio,format=QCOW2: format=QCOW2 is not supported (raw, qcow2 "
	 "or vpc)"},
	{{"-drive", "file=a,if=virtio,format=VPC"},
	 "wisp: -drive file=a,if=virtio,format=VPC: format=VPC is not supported (raw, qcow2 or "
	 "vpc)"},
	{{"-drive", "file=a,if=none"}, "wisp: -drive file=a,if=none: if=none needs id="},
	{{"-drive", "file=a,if=none,id=d0,addr=3"},
	 "wisp: -drive file=a,if=none,id=d0,addr=3: addr= needs if=virtio"},
	{{"-drive", "file=a,if=virtio,addr=0"},
	 "wisp: -drive file=a,if=virtio,addr=0: slot 0 is the host bridge's (use 1 to 1f)"},
	{{"-drive", "file=a,if=virtio,readonly=maybe"},
	 "wisp: -drive file=a,if=virtio,readonly=maybe: readonly must be on or off"},
	{{"-drive", "file=a,if=virtio,cache=directio"},
	 "wisp: -drive file=a,if=virtio,cache=directio: cache must be none, writeback, "
	 "writethrough, directsync or unsafe"},
	{{"-drive", "file=a,if=virtio,cache.direct=2"},
	 "wisp: -drive file=a,if=virtio,cache.direct=2: cache.direct must be on or off"},
	{{"-drive", "file=a,if=virtio,cache.no-flush=on"},
	 "wisp: -drive file=a,if=virtio,cache.no-flush=on: unsupported parameter 'cache.no-flush'"},
	{{"-drive", "file=a,if=virtio,aio=posix"},
	 "wisp: -drive file=a,if=virtio,aio=posix: aio must be io_uring, threads or native"},
	{{"-drive", "file=a,if=virtio,discard=yes"},
	 "wisp: -drive file=a,if=virtio,discard=yes: discard must be unmap, ignore, on or off"},
	{{"-drive", "file=a,if=virtio,snapshot=on"},
	 "wisp: -drive file=a,if=virtio,snapshot=on: unsupported parameter 'snapshot'"},
	{{"-drive", "file=a,if=virtio,media=disk"},
	 "wisp: -drive file=a,if=virtio,media=disk: unsupported parameter 'media'"},
	{{"-drive", "file=a,if=none,id=9d"},
	 "wisp: -drive file=a,if=none,id=9d: bad id '9d' (a letter, then letters, digits, '-', "
	 "'.' or '_')"},
	{{"-drive", "file=a,if=none,id=a/b"},
	 "wisp: -drive file=a,if=none,id=a/b: bad id 'a/b' (a letter, then letters, digits, '-', "
	 "'.' or '_')"},
	{{"-drive", "file=a,if=none,id="},
	 "wisp: -drive file=a,if=none,id=: bad id '' (a letter, then letters, digits, '-', '.' or "
	 "'_')"},
	{{"-drive",
	  "file=a,if=none,id=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
	 "wisp: -drive "
	 "file=a,if=none,id=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaa: id longer than 63 bytes"},
	{{"-drive", "file=a,if=none,id=d", "-drive", "file=b,if=virtio,id=d"},
	 "wisp: -drive file=b,if=virtio,id=d: duplicate drive id"},
	{{"-drive", "file=a,if=virtio,id=d0", "-device", "virtio-blk-pci,drive=d0"},
	 "wisp: -device virtio-blk-pci,drive=d0: drive 'd0' is already used by -drive "
	 "file=a,if=virtio,id=d0"},
	{{"-drive", "file=a,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0,id=x", "-device",
	  "virtio-blk-pci,drive=d0"},
	 "wisp: -device virtio-blk-pci,drive=d0: drive 'd0' is already used by -device "
	 "virtio-blk-pci,drive=d0,id=x"},
	/* virtio-blk-pci */
	{{"-device", "virtio-blk-pci"}, "wisp: -device virtio-blk-pci: needs drive="},
	{{"-device", "virtio-blk-pci,drive="}, "wisp: -device virtio-blk-pci,drive=: empty drive="},
	{{"-device", "virtio-blk-pci,drive=nope"},
	 "wisp: -device virtio-blk-pci,drive=nope: drive 'nope' not found"},
	{{"-drive", "file=a,if=none,id=d", "-device", "virtio-blk-pci,drive=d,num-queues=0"},
	 "wisp: -device virtio-blk-pci,drive=d,num-queues=0: num-queues must be a number from 1 "
	 "to 16"},
	{{"-device", "virtio-blk-pci,drive=d,num-queues=17"},
	 "wisp: -device virtio-blk-pci,drive=d,num-queues=17: num-queues must be a number from 1 "
	 "to 16"},
	{{"-device", "virtio-blk-pci,drive=d,num-queues=x"},
	 "wisp: -device virtio-blk-pci,drive=d,num-queues=x: num-queues must be a number from 1 "
	 "to 16"},
	{{"-device", "virtio-blk-pci,drive=d,serial=123456789012345678901"},
	 "wisp: -device virtio-blk-pci,drive=d,serial=123456789012345678901: serial longer than "
	 "20 bytes"},
	{{"-device", "virtio-blk-pci,drive=d,mac=52:54:00:12:34:56"},
	 "wisp: -device virtio-blk-pci,drive=d,mac=52:54:00:12:34:56: unsupported parameter "
	 "'mac'"},
	{{"-device", "virtio-blk-pci,drive=d,bootindex=1"},
	 "wisp: -device virtio-blk-pci,drive=d,bootindex=1: unsupported parameter 'bootindex'"},
	/* PCI addresses */
	{{"-device", "virtio-rng-pci,addr=0"},
	 "wisp: -device virtio-rng-pci,addr=0: slot 0 is the host bridge's (use 1 to 1f)"},
	{{"-device", "virtio-rng-pci,addr=0x0.0"},
	 "wisp: -device virtio-rng-pci,addr=0x0.0: slot 0 is the host bridge's (use 1 to 1f)"},
	{{"-device", "virtio-rng-pci,addr=20"},
	 "wisp: -device virtio-rng-pci,addr=20: addr must be a PCI slot from 1 to 1f in "
	 "hexadecimal (optionally followed by .0)"},
	{{"-device", "virtio-rng-pci,addr=100000000000000000001"},
	 "wisp: -device virtio-rng-pci,addr=100000000000000000001: addr must be a PCI slot from 1 "
	 "to 1f in hexadecimal (optionally followed by .0)"},
	{{"-device", "virtio-rng-pci,addr=3.1"},
	 "wisp: -device virtio-rng-pci,addr=3.1: only function 0 is supported (wisp has no "
	 "multi-function devices)"},
	{{"-device", "virtio-rng-pci,addr=g"},
	 "wisp: -device virtio-rng-pci,addr=g: addr must be a PCI slot from 1 to 1f in "
	 "hexadecimal (optionally followed by .0)"},
	{{"-device", "virtio-rng-pci,addr="},
	 "wisp: -device virtio-rng-pci,addr=: addr must be a PCI slot from 1 to 1f in "
	 "hexadecimal (optionally followed by .0)"},
	{{"-device", "virtio-rng-pci,addr=0x"},
	 "wisp: -device virtio-rng-pci,addr=0x: addr must be a PCI slot from 1 to 1f in "
	 "hexadecimal (optionally followed by .0)"},
	{{"-device", "virtio-rng-pci,addr=3."},
	 "wisp: -device virtio-rng-pci,addr=3.: addr must be a PCI slot from 1 to 1f in "
	 "hexadecimal (optionally followed by .0)"},
	{{"-device", "virtio-rng-pci,addr=3.0.0"},
	 "wisp: -device virtio-rng-pci,addr=3.0.0: addr must be a PCI slot from 1 to 1f in "
	 "hexadecimal (optionally followed by .0)"},
	{{"-device", "virtio-rng-pci,addr=-1"},
	 "wisp: -device virtio-rng-pci,addr=-1: addr must be a PCI slot from 1 to 1f in "
	 "hexadecimal (optionally followed by .0)"},
	{{"-device", "virtio-rng-pci,addr= 3"},
	 "wisp: -device virtio-rng-pci,addr= 3: addr must be a PCI slot from 1 to 1f in "
	 "hexadecimal (optionally followed by .0)"},
	{{"-device", "virtio-rng-pci,addr=3", "-device", "virtio-serial-pci,addr=0x3.0"},
	 "wisp: -device virtio-serial-pci,addr=0x3.0: PCI slot 3 is already taken by -device "
	 "virtio-rng-pci,addr=3"},
	{{"-drive", "file=a,if=virtio,addr=1f", "-device", "virtio-rng-pci,addr=1F"},
	 "wisp: -device virtio-rng-pci,addr=1F: PCI slot 1f is already taken by -drive "
	 "file=a,if=virtio,addr=1f"},
	/* device ids */
	{{"-device", "virtio-rng-pci,id=r", "-device", "virtio-rng-pci,id=r"},
	 "wisp: -device virtio-rng-pci,id=r: duplicate device id"},
	{{"-device", "virtio-serial-pci,id=s", "-device", "virtconsole,chardev=c,id=s"},
	 "wisp: -device virtconsole,chardev=c,id=s: duplicate device id"},
	{{"-device", "virtconsole,chardev=c,id=s", "-device", "virtio-serial-pci,id=s"},
	 "wisp: -device virtio-serial-pci,id=s: duplicate device id"},
	{{"-device", "virtio-rng-pci,id=a b"},
	 "wisp: -device virtio-rng-pci,id=a b: bad id 'a b' (a letter, then letters, digits, '-', "
	 "'.' or '_')"},
	/* virtio-rng-pci */
	{{"-device", "virtio-rng-pci,max-bytes=0"},
	 "wisp: -device virtio-rng-pci,max-bytes=0: max-bytes must be a number from 1 to "
	 "9223372036854775807"},
	{{"-device", "virtio-rng-pci,max-bytes=9223372036854775808"},
	 "wisp: -device virtio-rng-pci,max-bytes=9223372036854775808: max-bytes must be a number "
	 "from 1 to 9223372036854775807"},
	{{"-device", "virtio-rng-pci,period=0"},
	 "wisp: -device virtio-rng-pci,period=0: period must be a number of ms from 1 to "
	 "4294967295"},
	{{"-device", "virtio-rng-pci,period=4294967296"},
	 "wisp: -device virtio-rng-pci,period=4294967296: period must be a number of ms from 1 to "
	 "4294967295"},
	{{"-device", "virtio-rng-pci,period=1s"},
	 "wisp: -device virtio-rng-pci,period=1s: period must be a number of ms from 1 to "
	 "4294967295"},
	{{"-device", "virtio-rng-pci,rng=rng0"},
	 "wisp: -device virtio-rng-pci,rng=rng0: unsupported parameter 'rng'"},
	{{"-device", "virtio-rng-pci,drive=d"},
	 "wisp: -device virtio-rng-pci,drive=d: unsupported parameter 'drive'"},
	/* other devices */
	{{"-device", "virtio-scsi-pci"}, "wisp: -device virtio-scsi-pci: " UNSUPPORTED_DEVICE},
	{{"-device", "virtio-blk-device,drive=d"},
	 "wisp: -device virtio-blk-device: " UNSUPPORTED_DEVICE},
	{{"-device", "virtio-serial-pci,max_ports=2"},
	 "wisp: -device virtio-serial-pci,max_ports=2: unsupported parameter 'max_ports'"},
	/* -netdev and virtio-net-pci */
	{{"-netdev", "user,id=n0"},
	 "wisp: -netdev user,id=n0: netdev type 'user' is not supported (only tap)"},
	{{"-netdev", "bridge,id=n0,br=br0"},
	 "wisp: -netdev bridge,id=n0,br=br0: netdev type 'bridge' is not supported (only tap)"},
	{{"-netdev", "id=n0,ifname=tap0"},
	 "wisp: -netdev id=n0,ifname=tap0: needs a type (only tap)"},
	{{"-netdev", "tap,id=n0,ifname=tap0,script=/etc/qemu-ifup"},
	 "wisp: -netdev tap,id=n0,ifname=tap0,script=/etc/qemu-ifup: wisp never runs scripts: say "
	 "script=no and set the tap device up beforehand"},
	{{"-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=/bin/down"},
	 "wisp: -netdev tap,id=n0,ifname=tap0,script=no,downscript=/bin/down: wisp never runs "
	 "scripts: say downscript=no and set the tap device up beforehand"},
	{{"-netdev", "tap,id=n0,ifname=tap0,script="},
	 "wisp: -netdev tap,id=n0,ifname=tap0,script=: wisp never runs scripts: say script=no and "
	 "set the tap device up beforehand"},
	{{"-netdev", "tap,ifname=tap0"}, "wisp: -netdev tap,ifname=tap0: needs id="},
	{{"-netdev", "tap,id=0,ifname=tap0"},
	 "wisp: -netdev tap,id=0,ifname=tap0: bad id '0' (a letter, then letters, digits, '-', "
	 "'.' or '_')"},
	{{"-netdev", "tap,id=n0"}, "wisp: -netdev tap,id=n0: needs ifname= (the tap device)"},
	{{"-netdev", "tap,id=n0,ifname="},
	 "wisp: -netdev tap,id=n0,ifname=: needs ifname= (the tap "
	 "device)"},
	{{"-netdev", "tap,id=n0,ifname=sixteen-bytes-xx"},
	 "wisp: -netdev tap,id=n0,ifname=sixteen-bytes-xx: ifname longer than 15 bytes"},
	{{"-netdev", "tap,id=n0,ifname=tap0,vhost=on"},
	 "wisp: -netdev tap,id=n0,ifname=tap0,vhost=on: unsupported parameter 'vhost'"},
	{{"-netdev", "tap,id=n0,fd=3"}, "wisp: -netdev tap,id=n0,fd=3: unsupported parameter 'fd'"},
	{{"-netdev", "tap,id=n,ifname=a", "-netdev", "tap,id=n,ifname=b"},
	 "wisp: -netdev tap,id=n,ifname=b: duplicate netdev id"},
	{{"-device", "virtio-net-pci"}, "wisp: -device virtio-net-pci: needs netdev="},
	{{"-device", "virtio-net-pci,netdev=n0"},
	 "wisp: -device virtio-net-pci,netdev=n0: netdev 'n0' not found"},
	{{"-netdev", "tap,id=n0,ifname=t", "-device", "virtio-net-pci,netdev=n0", "-device",
	  "virtio-net-pci,netdev=n0"},
	 "wisp: -device virtio-net-pci,netdev=n0: netdev 'n0' is already used by -device "
	 "virtio-net-pci,netdev=n0"},
	{{"-device", "virtio-net-pci,netdev=n,mac=52:54:00:12:34"},
	 "wisp: -device virtio-net-pci,netdev=n,mac=52:54:00:12:34: mac must be six hexadecimal "
	 "bytes like 52:54:00:12:34:56"},
	{{"-device", "virtio-net-pci,netdev=n,mac=52:54:00:12:34:5g"},
	 "wisp: -device virtio-net-pci,netdev=n,mac=52:54:00:12:34:5g: mac must be six "
	 "hexadecimal bytes like 52:54:00:12:34:56"},
	{{"-device", "virtio-net-pci,netdev=n,mac=52:54:00:12:34:56:78"},
	 "wisp: -device virtio-net-pci,netdev=n,mac=52:54:00:12:34:56:78: mac must be six "
	 "hexadecimal bytes like 52:54:00:12:34:56"},
	{{"-device", "virtio-net-pci,netdev=n,mac=5254.0012.3456"},
	 "wisp: -device virtio-net-pci,netdev=n,mac=5254.0012.3456: mac must be six hexadecimal "
	 "bytes like 52:54:00:12:34:56"},
	{{"-device", "virtio-net-pci,netdev=n,mac="},
	 "wisp: -device virtio-net-pci,netdev=n,mac=: mac must be six hexadecimal bytes like "
	 "52:54:00:12:34:56"},
	{{"-device", "virtio-net-pci,netdev=n,mac=01:00:5e:00:00:01"},
	 "wisp: -device virtio-net-pci,netdev=n,mac=01:00:5e:00:00:01: mac is a multicast address "
	 "(the first byte must be even)"},
	{{"-device", "virtio-net-pci,netdev=n,mac=00:00:00:00:00:00"},
	 "wisp: -device virtio-net-pci,netdev=n,mac=00:00:00:00:00:00: mac must not be "
	 "00:00:00:00:00:00"},
	{{"-device", "virtio-net-pci,netdev=n,num-queues=2"},
	 "wisp: -device virtio-net-pci,netdev=n,num-queues=2: unsupported parameter 'num-queues'"},
	/* -chardev */
	{{"-chardev", "null,id=c"},
	 "wisp: -chardev null,id=c: unsupported backend 'null' (use stdio, file or socket)"},
	{{"-chardev", "id=c,backend=stdio"},
	 "wisp: -chardev id=c,backend=stdio: unsupported backend 'id=c' (use stdio, file or "
	 "socket)"},
	{{"-chardev", "stdio"}, "wisp: -chardev stdio: needs id="},
	{{"-chardev", "stdio,id=c,signal=off"},
	 "wisp: -chardev stdio,id=c,signal=off: unsupported parameter 'signal'"},
	{{"-chardev", "file,id=c"}, "wisp: -chardev file,id=c: needs path="},
	{{"-chardev", "file,id=c,path="}, "wisp: -chardev file,id=c,path=: needs path="},
	{{"-chardev", "file,id=c,path=/x,append=on"},
	 "wisp: -chardev file,id=c,path=/x,append=on: unsupported parameter 'append'"},
	{{"-chardev", "socket,id=c,host=localhost,port=4444,server=on,wait=off"},
	 "wisp: -chardev socket,id=c,host=localhost,port=4444,server=on,wait=off: unsupported "
	 "parameter 'host'"},
	{{"-chardev", "socket,id=c,path=/tmp/s"},
	 "wisp: -chardev socket,id=c,path=/tmp/s: unix sockets need server=on,wait=off"},
	{{"-chardev", "file,id=-c,path=/x"},
	 "wisp: -chardev file,id=-c,path=/x: bad id '-c' (a letter, then letters, digits, '-', "
	 "'.' or '_')"},
	{{"-chardev", "file,id=c,path=/x", "-chardev", "stdio,id=c"},
	 "wisp: -chardev stdio,id=c: duplicate chardev id"},
	/* stdio serves one character device */
	{{"-chardev", "stdio,id=c"},
	 "wisp: -chardev stdio,id=c: cannot use stdio by multiple character devices (the serial "
	 "port is on stdio unless -serial says otherwise)"},
	{{"-serial", "stdio", "-chardev", "stdio,id=c"},
	 "wisp: -chardev stdio,id=c: cannot use stdio by multiple character devices (the serial "
	 "port is on stdio unless -serial says otherwise)"},
	{{"-nographic", "-chardev", "stdio,id=c"},
	 "wisp: -chardev stdio,id=c: cannot use stdio by multiple character devices (the serial "
	 "port is on stdio unless -serial says otherwise)"},
	{{"-serial", "none", "-chardev", "stdio,id=a", "-chardev", "stdio,id=b"},
	 "wisp: -chardev stdio,id=b: cannot use stdio by multiple character devices"},
	/* -mon and the chardevs */
	{{"-chardev", "file,id=m,path=/tmp/m", "-mon", "m,mode=control"},
	 "wisp: -mon: chardev 'm' is not a socket (a monitor needs -chardev socket)"},
	{{"-serial", "none", "-chardev", "stdio,id=m", "-mon", "m,mode=control"},
	 "wisp: -mon: chardev 'm' is not a socket (a monitor needs -chardev socket)"},
	{{"-chardev", "socket,id=m,path=/tmp/m,server=on,wait=off", "-mon", "m,mode=control",
	  "-mon", "m,mode=control"},
	 "wisp: -mon: chardev 'm' is already in use"},
	{{"-chardev", "socket,id=m,path=/tmp/m,server=on,wait=off", "-mon", "m,mode=control",
	  "-device", "virtio-serial-pci", "-device", "virtconsole,chardev=m"},
	 "wisp: -device virtconsole,chardev=m: chardev 'm' is already in use"},
	/* virtconsole */
	{{"-device", "virtconsole"}, "wisp: -device virtconsole: needs chardev="},
	{{"-device", "virtconsole,chardev=c"},
	 "wisp: -device virtconsole,chardev=c: needs a -device virtio-serial-pci"},
	{{"-device", "virtio-serial-pci", "-device", "virtconsole,chardev=c"},
	 "wisp: -device virtconsole,chardev=c: chardev 'c' not found"},
	{{"-device", "virtio-serial-pci", "-device", "virtio-serial-pci", "-device",
	  "virtconsole,chardev=c"},
	 "wisp: -device virtconsole,chardev=c: 2 virtio-serial-pci devices: say which with "
	 "bus=ID.0"},
	{{"-device", "virtio-serial-pci,id=vs", "-device", "virtconsole,chardev=c,bus=vx.0"},
	 "wisp: -device virtconsole,chardev=c,bus=vx.0: no -device virtio-serial-pci,id=vx"},
	{{"-device", "virtio-rng-pci,id=vs", "-device", "virtconsole,chardev=c,bus=vs.0"},
	 "wisp: -device virtconsole,chardev=c,bus=vs.0: no -device virtio-serial-pci,id=vs"},
	{{"-device", "virtio-serial-pci,id=vs", "-device", "virtconsole,chardev=c,bus=vs"},
	 "wisp: -device virtconsole,chardev=c,bus=vs: bus must be ID.0, ID the id of a -device "
	 "virtio-serial-pci"},
	{{"-device", "virtconsole,chardev=c,bus=.0"},
	 "wisp: -device virtconsole,chardev=c,bus=.0: bus must be ID.0, ID the id of a -device "
	 "virtio-serial-pci"},
	{{"-chardev", "file,id=a,path=/a", "-chardev", "file,id=b,path=/b", "-device",
	  "virtio-serial-pci,id=vs", "-device", "virtconsole,chardev=a", "-device",
	  "virtconsole,chardev=b"},
	 "wisp: -device virtconsole,chardev=b: virtio-serial-pci vs already has a console"},
	{{"-chardev", "file,id=a,path=/a", "-chardev", "file,id=b,path=/b", "-device",
	  "virtio-serial-pci", "-device", "virtconsole,chardev=a", "-device",
	  "virtconsole,chardev=b"},
	 "wisp: -device virtconsole,chardev=b: virtio-serial-pci (without id) already has a "
	 "console"},
	{{"-chardev", "file,id=a,path=/a", "-device", "virtio-serial-pci,id=x", "-device",
	  "virtio-serial-pci,id=y", "-device", "virtconsole,chardev=a,bus=x.0", "-device",
	  "virtconsole,chardev=a,bus=y.0"},
	 "wisp: -device virtconsole,chardev=a,bus=y.0: chardev 'a' is already in use"},
	{{"-device", "virtconsole,chardev=c,nr=1"},
	 "wisp: -device virtconsole,chardev=c,nr=1: unsupported parameter 'nr'"},
	/* QMP monitors */
	{{"-qmp", "tcp:localhost:4444"},
	 "wisp: -qmp tcp:localhost:4444: only unix:PATH,server=on,wait=off is supported"},
	{{"-qmp", "unix:/tmp/q"}, "wisp: -qmp unix:/tmp/q: unix sockets need server=on,wait=off"},
	{{"-qmp", "unix:/tmp/q,server=on,wait=off,x=1"},
	 "wisp: -qmp unix:/tmp/q,server=on,wait=off,x=1: unsupported parameter 'x'"},
	{{"-chardev", "pty,id=c"},
	 "wisp: -chardev pty,id=c: unsupported backend 'pty' (use stdio, file or socket)"},
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
	"-machine", "-M",	"-cpu",	   "-accel",  "-smp",	  "-m",	      "-name",	 "-serial",
	"-display", "-kernel",	"-append", "-initrd", "-bios",	  "-pidfile", "-device", "-drive",
	"-netdev",  "-chardev", "-mon",	   "-qmp",    "-sandbox", "-runas",   "-chroot",
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

/* argv that must parse into the drives, netdevs, chardevs and PCI devices that
 * describe() renders as @want. */
struct dev_good {
	const char *argv[MAX_ARGS];
	const char *want;
};

static const struct dev_good dev_goods[] = {
	/* -drive */
	{{"-drive", "file=a.img,if=virtio"}, "drive - 'a.img' used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0"},
	 "drive d0 'a.img' used; virtio-blk-pci drive=0"},
	{{"-device", "virtio-blk-pci,drive=d0", "-drive", "if=none,id=d0,file=a.img"},
	 "drive d0 'a.img' used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=none,id=d0"}, "drive d0 'a.img'"},
	{{"-drive", "file=a.img,if=virtio,id=d0,addr=5"},
	 "drive d0 'a.img' used; virtio-blk-pci slot=5 drive=0"},
	{{"-drive", "file=a,,b.img,if=virtio"}, "drive - 'a,b.img' used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,format=raw"},
	 "drive - 'a.img' used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.qcow2,if=virtio,format=qcow2"},
	 "drive - 'a.qcow2' qcow2 used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.qcow2,if=none,id=d0,format=qcow2,readonly=on"},
	 "drive d0 'a.qcow2' qcow2 readonly"},
	{{"-drive", "file=a.vhd,if=virtio,format=vpc"},
	 "drive - 'a.vhd' vpc used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.vhd,if=none,id=d1,format=vpc,readonly=on,cache=none"},
	 "drive d1 'a.vhd' vpc readonly direct"},
	{{"-drive", "file=a.img,if=virtio,readonly=on"},
	 "drive - 'a.img' readonly used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,readonly"},
	 "drive - 'a.img' readonly used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,readonly=off"},
	 "drive - 'a.img' used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,cache=none"},
	 "drive - 'a.img' direct used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,cache=writeback"},
	 "drive - 'a.img' used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,cache=writethrough"},
	 "drive - 'a.img' writethrough used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,cache=directsync"},
	 "drive - 'a.img' direct writethrough used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,cache=unsafe"},
	 "drive - 'a.img' no-flush used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,cache.direct=on"},
	 "drive - 'a.img' direct used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,cache=none,cache.direct=off"},
	 "drive - 'a.img' used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,cache.direct=on,cache=writeback"},
	 "drive - 'a.img' direct used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,cache.direct=off,cache=directsync"},
	 "drive - 'a.img' writethrough used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,aio=io_uring"},
	 "drive - 'a.img' aio=io_uring used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,aio=native"},
	 "drive - 'a.img' aio=io_uring used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,aio=threads"},
	 "drive - 'a.img' aio=threads used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,discard=unmap"},
	 "drive - 'a.img' discard used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,discard=on"},
	 "drive - 'a.img' discard used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,discard=ignore"},
	 "drive - 'a.img' used; virtio-blk-pci drive=0"},
	{{"-drive", "file=a.img,if=virtio,discard=off"},
	 "drive - 'a.img' used; virtio-blk-pci drive=0"},
	{{"--drive", "if=none,file=b.img,id=disk-1.a_b,readonly=on,cache=none,aio=threads,"
		     "discard=unmap"},
	 "drive disk-1.a_b 'b.img' readonly direct discard aio=threads"},
	/* command-line order: implicit devices sit where their -drive is */
	{{"-device", "virtio-rng-pci", "-drive", "file=a,if=virtio", "-device",
	  "virtio-blk-pci,drive=d1", "-drive", "file=b,if=none,id=d1"},
	 "drive - 'a' used; drive d1 'b' used; virtio-rng-pci; virtio-blk-pci drive=0; "
	 "virtio-blk-pci drive=1"},
	/* virtio-blk-pci properties */
	{{"-drive", "file=a,if=none,id=d", "-device",
	  "virtio-blk-pci,drive=d,id=disk0,num-queues=16,serial=12345678901234567890,addr=1f"},
	 "drive d 'a' used; virtio-blk-pci id=disk0 slot=31 drive=0 queues=16 "
	 "serial=12345678901234567890"},
	{{"-drive", "file=a,if=none,id=d", "-device", "driver=virtio-blk-pci,num-queues=1,drive=d"},
	 "drive d 'a' used; virtio-blk-pci drive=0"},
	/* PCI addresses are hexadecimal, as in QEMU */
	{{"-device", "virtio-rng-pci,addr=3"}, "virtio-rng-pci slot=3"},
	{{"-device", "virtio-rng-pci,addr=0x3"}, "virtio-rng-pci slot=3"},
	{{"-device", "virtio-rng-pci,addr=3.0"}, "virtio-rng-pci slot=3"},
	{{"-device", "virtio-rng-pci,addr=0x3.0"}, "virtio-rng-pci slot=3"},
	{{"-device", "virtio-rng-pci,addr=10"}, "virtio-rng-pci slot=16"},
	{{"-device", "virtio-rng-pci,addr=1"}, "virtio-rng-pci slot=1"},
	{{"-device", "virtio-rng-pci,addr=1F"}, "virtio-rng-pci slot=31"},
	{{"-device", "virtio-rng-pci,addr=0X1f"}, "virtio-rng-pci slot=31"},
	{{"-device", "virtio-rng-pci,addr=01"}, "virtio-rng-pci slot=1"},
	{{"-device", "virtio-rng-pci,addr=3", "-device", "virtio-rng-pci", "-device",
	  "virtio-rng-pci,addr=4"},
	 "virtio-rng-pci slot=3; virtio-rng-pci; virtio-rng-pci slot=4"},
	/* virtio-rng-pci */
	{{"-device", "virtio-rng-pci"}, "virtio-rng-pci"},
	{{"-device", "virtio-rng-pci,id=rng0,max-bytes=1024,period=500"},
	 "virtio-rng-pci id=rng0 max-bytes=1024 period=500"},
	{{"-device", "virtio-rng-pci,max-bytes=0x400,period=4294967295"},
	 "virtio-rng-pci max-bytes=1024 period=4294967295"},
	{{"-device", "virtio-rng-pci,max-bytes=9223372036854775807,period=1"},
	 "virtio-rng-pci max-bytes=9223372036854775807 period=1"},
	/* -netdev and virtio-net-pci */
	{{"-netdev", "tap,id=n0,ifname=tap0", "-device", "virtio-net-pci,netdev=n0"},
	 "netdev n0 tap0 used; virtio-net-pci netdev=0 mac=52:54:00:12:34:56"},
	{{"-netdev", "type=tap,id=n0,ifname=tap0,script=no,downscript=no", "-device",
	  "virtio-net-pci,netdev=n0,id=net0,addr=2"},
	 "netdev n0 tap0 used; virtio-net-pci id=net0 slot=2 netdev=0 mac=52:54:00:12:34:56"},
	{{"-device", "virtio-net-pci,netdev=b", "-netdev", "tap,id=a,ifname=tap-a", "-netdev",
	  "tap,id=b,ifname=tap-b", "-device", "virtio-net-pci,netdev=a"},
	 "netdev a tap-a used; netdev b tap-b used; virtio-net-pci netdev=1 mac=52:54:00:12:34:56; "
	 "virtio-net-pci netdev=0 mac=52:54:00:12:34:57"},
	{{"-netdev", "tap,id=a,ifname=t0", "-netdev", "tap,id=b,ifname=t1", "-device",
	  "virtio-net-pci,netdev=a,mac=02:00:00:AB:cd:EF", "-device", "virtio-net-pci,netdev=b"},
	 "netdev a t0 used; netdev b t1 used; virtio-net-pci netdev=0 mac=02:00:00:ab:cd:ef; "
	 "virtio-net-pci netdev=1 mac=52:54:00:12:34:57"},
	{{"-netdev", "tap,id=a,ifname=t0", "-device",
	  "virtio-net-pci,netdev=a,mac=00-11-22-33-44-55"},
	 "netdev a t0 used; virtio-net-pci netdev=0 mac=00:11:22:33:44:55"},
	{{"-netdev", "tap,id=n0,ifname=fifteen-bytes-x"}, "netdev n0 fifteen-bytes-x"},
	{{"-netdev", "tap,id=n0,ifname=tap%d"}, "netdev n0 tap%d"},
	/* -chardev, virtio-serial-pci and virtconsole */
	{{"-serial", "none", "-chardev", "stdio,id=c0", "-device", "virtio-serial-pci", "-device",
	  "virtconsole,chardev=c0"},
	 "chardev c0 stdio used; virtio-serial-pci console=0"},
	{{"-serial", "file:/tmp/s", "-chardev", "stdio,id=c0"}, "chardev c0 stdio"},
	{{"-serial", "unix:/tmp/s,server=on,wait=off", "-chardev", "stdio,id=c0"},
	 "chardev c0 stdio"},
	{{"-device", "virtconsole,chardev=c,id=con0", "-device", "virtio-serial-pci,id=vs",
	  "-chardev", "file,id=c,path=/tmp/a,,b"},
	 "chardev c file:/tmp/a,b used; virtio-serial-pci id=vs console=0"},
	{{"-chardev", "socket,id=c,path=/tmp/s,server=on,wait=off", "-device",
	  "virtio-serial-pci,id=vs0", "-device", "virtio-serial-pci,id=vs1,addr=7", "-device",
	  "virtconsole,chardev=c,bus=vs1.0"},
	 "chardev c socket:/tmp/s used; virtio-serial-pci id=vs0; "
	 "virtio-serial-pci id=vs1 slot=7 console=0"},
	{{"-chardev", "file,id=a,path=/tmp/a", "-chardev", "file,id=b,path=/tmp/b", "-device",
	  "virtio-serial-pci,id=x", "-device", "virtio-serial-pci,id=y", "-device",
	  "virtconsole,bus=y.0,chardev=a", "-device", "virtconsole,bus=x.0,chardev=b"},
	 "chardev a file:/tmp/a used; chardev b file:/tmp/b used; virtio-serial-pci id=x "
	 "console=1; virtio-serial-pci id=y console=0"},
	{{"-device", "virtio-serial-pci"}, "virtio-serial-pci"},
	{{"-chardev", "socket,id=m,path=/tmp/m,server,nowait", "-mon", "m,mode=control"},
	 "chardev m socket:/tmp/m used"},
	{{"-chardev", "socket,id=m,path=/tmp/m,server=on,wait=off"}, "chardev m socket:/tmp/m"},
	{{"-serial", "none", "-chardev", "stdio,id=s"}, "chardev s stdio"},
};

static void put(char *buf, size_t len, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;

	assert_true(*n < len);
	va_start(ap, fmt);
	*n += (size_t)vsnprintf(buf + *n, len - *n, fmt, ap);
	va_end(ap);
	assert_true(*n < len);
}

static const char *const kind_names[] = {"virtio-blk-pci", "virtio-net-pci", "virtio-rng-pci",
					 "virtio-serial-pci"};
static const char *const chardev_kinds[] = {"stdio", "file:", "socket:", "none"};
static const char *const aio_names[] = {"", " aio=io_uring", " aio=threads"};

/* One line for every drive, netdev, chardev and PCI device, fields at their
 * defaults left out; " BAD" marks a field that should hold its default. */
static void describe(const struct config *c, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < c->nr_drives; i++) {
		const struct config_drive *d = &c->drives[i];

		put(buf, len, &n, "%sdrive %s '%s'%s%s%s%s%s%s%s%s", n ? "; " : "",
		    d->id[0] ? d->id : "-", d->file,
		    !strcmp(d->format, "raw")	  ? ""
		    : !strcmp(d->format, "qcow2") ? " qcow2"
		    : !strcmp(d->format, "vpc")	  ? " vpc"
						  : " BAD",
		    d->readonly ? " readonly" : "", d->direct ? " direct" : "",
		    d->writethrough ? " writethrough" : "", d->no_flush ? " no-flush" : "",
		    d->discard ? " discard" : "", aio_names[d->aio], d->used ? " used" : "");
	}
	for (unsigned int i = 0; i < c->nr_netdevs; i++)
		put(buf, len, &n, "%snetdev %s %s%s", n ? "; " : "", c->netdevs[i].id,
		    c->netdevs[i].ifname, c->netdevs[i].used ? " used" : "");
	for (unsigned int i = 0; i < c->nr_chardevs; i++) {
		const struct config_chardev *cd = &c->chardevs[i];

		put(buf, len, &n, "%schardev %s %s%s%s%s", n ? "; " : "", cd->id,
		    chardev_kinds[cd->kind], cd->path,
		    (cd->kind == SERIAL_STDIO) != !cd->path[0] ? " BAD" : "",
		    cd->used ? " used" : "");
	}
	for (unsigned int i = 0; i < c->nr_pci_devs; i++) {
		const struct config_pci_dev *d = &c->pci_devs[i];
		bool blk = d->kind == CONFIG_DEV_VIRTIO_BLK, net = d->kind == CONFIG_DEV_VIRTIO_NET;
		bool rng = d->kind == CONFIG_DEV_VIRTIO_RNG,
		     ser = d->kind == CONFIG_DEV_VIRTIO_SERIAL;
		static const uint8_t zero[6];

		put(buf, len, &n, "%s%s", n ? "; " : "", kind_names[d->kind]);
		if (d->id[0])
			put(buf, len, &n, " id=%s", d->id);
		if (d->slot != -1)
			put(buf, len, &n, " slot=%d", d->slot);
		if (blk)
			put(buf, len, &n, " drive=%d", d->drive);
		if (blk && d->num_queues != 1)
			put(buf, len, &n, " queues=%u", d->num_queues);
		if (blk && d->serial[0])
			put(buf, len, &n, " serial=%s", d->serial);
		if (net)
			put(buf, len, &n, " netdev=%d mac=%02x:%02x:%02x:%02x:%02x:%02x", d->netdev,
			    d->mac[0], d->mac[1], d->mac[2], d->mac[3], d->mac[4], d->mac[5]);
		if (rng && d->rng_max_bytes)
			put(buf, len, &n, " max-bytes=%llu", (unsigned long long)d->rng_max_bytes);
		if (rng && d->rng_period_ms != 1000)
			put(buf, len, &n, " period=%llu", (unsigned long long)d->rng_period_ms);
		if (ser && d->chardev >= 0)
			put(buf, len, &n, " console=%d", d->chardev);
		if ((!blk && (d->drive != -1 || d->num_queues != 1 || d->serial[0])) ||
		    (!net && (d->netdev != -1 || memcmp(d->mac, zero, 6))) ||
		    (!rng && (d->rng_max_bytes || d->rng_period_ms != 1000)) ||
		    (!ser && d->chardev != -1) || d->slot == 0 || d->slot > 31)
			put(buf, len, &n, " BAD");
	}
}

static void test_dev_good(void **state)
{
	const struct dev_good *g = *state;
	char *argv[MAX_ARGS + 2], err[512] = "stale", got[2048];
	struct config c;
	int argc = build_argv(g->argv, argv);
	int r;

	memset(&c, 0xa5, sizeof(c));
	r = config_parse(&c, argc, argv, err, sizeof(err));
	if (r)
		fail_msg("returned %d: %s", r, err);
	describe(&c, got, sizeof(got));
	assert_string_equal(got, g->want);
}

static char many[80][128];

/* Fills many[0..n) with a format of the index i_ (from 1). */
#define FILL(n, ...)                                                                               \
	for (unsigned int i_ = 1; i_ <= (n); i_++)                                                 \
	snprintf(many[i_ - 1], sizeof(many[0]), __VA_ARGS__)

/* Parses "@opt many[0] @opt many[1] ..." for the first @n. */
static int parse_many(struct config *c, const char *opt, unsigned int n, char *err, size_t errlen)
{
	char *argv[2 * 80 + 2];
	int argc = 0;

	assert_true(n <= 80);
	argv[argc++] = (char *)"wisp";
	for (unsigned int i = 0; i < n; i++) {
		argv[argc++] = (char *)opt;
		argv[argc++] = many[i];
	}
	argv[argc] = NULL;
	return config_parse(c, argc, argv, err, errlen);
}

/* Array bounds: 16 drives, 8 netdevs, 16 chardevs, 31 PCI devices. */
static void test_device_limits(void **state)
{
	struct config c;
	char err[512];

	(void)state;
	FILL(17, "file=f%u,if=none,id=d%u", i_, i_);
	assert_int_equal(parse_many(&c, "-drive", 16, err, sizeof(err)), 0);
	assert_int_equal(c.nr_drives, 16);
	assert_int_equal(c.nr_pci_devs, 0);
	assert_int_equal(parse_many(&c, "-drive", 17, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "wisp: -drive file=f17,if=none,id=d17: too many drives (at most 16)");

	FILL(9, "tap,id=n%u,ifname=tap%u", i_, i_);
	assert_int_equal(parse_many(&c, "-netdev", 8, err, sizeof(err)), 0);
	assert_int_equal(c.nr_netdevs, 8);
	assert_int_equal(parse_many(&c, "-netdev", 9, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "wisp: -netdev tap,id=n9,ifname=tap9: too many netdevs (at most 8)");

	FILL(17, "file,id=c%u,path=/tmp/%u", i_, i_);
	assert_int_equal(parse_many(&c, "-chardev", 16, err, sizeof(err)), 0);
	assert_int_equal(c.nr_chardevs, 16);
	assert_int_equal(parse_many(&c, "-chardev", 17, err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err, "wisp: -chardev file,id=c17,path=/tmp/17: too many chardevs (at most 16)");

	FILL(32, "virtio-rng-pci,id=r%u", i_);
	assert_int_equal(parse_many(&c, "-device", 31, err, sizeof(err)), 0);
	assert_int_equal(c.nr_pci_devs, 31);
	assert_int_equal(parse_many(&c, "-device", 32, err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err, "wisp: -device virtio-rng-pci,id=r32: too many PCI devices (at most 31)");

	FILL(31, "virtio-rng-pci,addr=%x", i_); /* every slot, chosen by hand */
	assert_int_equal(parse_many(&c, "-device", 31, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < 31; i++)
		assert_int_equal(c.pci_devs[i].slot, i + 1);

	FILL(16, "file=f%u,if=virtio", i_); /* anonymous drives: no id to collide */
	assert_int_equal(parse_many(&c, "-drive", 16, err, sizeof(err)), 0);
	assert_int_equal(c.nr_pci_devs, 16);
	for (unsigned int i = 0; i < 16; i++)
		assert_int_equal(c.pci_devs[i].drive, i);

	/* eight virtio-serial-pci devices, a console on each, then one console too many */
	{
		static char *argv[52];

		argv[0] = (char *)"wisp";
		for (unsigned int i = 0; i < 8; i++) {
			snprintf(many[i], sizeof(many[0]), "virtio-serial-pci,id=s%u", i);
			snprintf(many[8 + i], sizeof(many[0]), "virtconsole,chardev=c%u,bus=s%u.0",
				 i, i);
			snprintf(many[16 + i], sizeof(many[0]), "file,id=c%u,path=/tmp/c", i);
		}
		for (unsigned int i = 0; i < 24; i++) {
			argv[1 + 2 * i] = (char *)(i < 16 ? "-device" : "-chardev");
			argv[2 + 2 * i] = many[i];
		}
		assert_int_equal(config_parse(&c, 49, argv, err, sizeof(err)), 0);
		for (unsigned int i = 0; i < 8; i++)
			assert_int_equal(c.pci_devs[i].chardev, i);
		argv[49] = (char *)"-device";
		argv[50] = (char *)"virtconsole,chardev=c1";
		assert_int_equal(config_parse(&c, 51, argv, err, sizeof(err)), -EINVAL);
		assert_string_equal(err,
				    "wisp: -device virtconsole,chardev=c1: 8 virtio-serial-pci "
				    "devices: say which with bus=ID.0");
	}
}

/* The -drive file is copied out of its sub-option list; argv is not written. */
static void test_drive_file_copied(void **state)
{
	char a1[] = "-drive", a2[] = "file=/img/a,,b.raw,if=virtio,id=d0";
	char *argv[] = {(char *)"wisp", a1, a2, NULL};
	char err[128];
	struct config c;

	(void)state;
	assert_int_equal(config_parse(&c, 3, argv, err, sizeof(err)), 0);
	assert_string_equal(a2, "file=/img/a,,b.raw,if=virtio,id=d0");
	memset(a2, 'z', sizeof(a2) - 1);
	assert_string_equal(c.drives[0].file, "/img/a,b.raw");
	assert_string_equal(c.drives[0].format, "raw");
	assert_string_equal(c.drives[0].id, "d0");
	assert_int_equal(c.drives[0].aio, CONFIG_AIO_DEFAULT);
}

/* -mon resolves against the -chardevs that devices use too, and marks its own. */
static void test_monitor_chardevs(void **state)
{
	const char *argv[] = {"wisp",
			      "-chardev",
			      "file,id=log,path=/tmp/log",
			      "-mon",
			      "m1,mode=control",
			      "-chardev",
			      "socket,id=m1,path=/tmp/m1,server=on,wait=off",
			      "-device",
			      "virtio-serial-pci",
			      "-device",
			      "virtconsole,chardev=log"};
	struct config c;
	char err[256];

	(void)state;
	assert_int_equal(config_parse(&c, 11, (char **)argv, err, sizeof(err)), 0);
	assert_int_equal(c.nr_monitors, 1);
	assert_string_equal(c.monitors[0], "/tmp/m1");
	assert_string_equal(c.monitor_labels[0], "m1");
	assert_int_equal(c.nr_chardevs, 2);
	assert_true(c.chardevs[0].used);
	assert_true(c.chardevs[1].used);
	assert_int_equal(c.chardevs[1].kind, SERIAL_UNIX);
	assert_int_equal(c.pci_devs[0].chardev, 0);
}

/* Socket paths stay within sun_path; file paths only within the argument. */
static void test_chardev_paths(void **state)
{
	char path[1100], arg[1200], err[1400];

	(void)state;
	memset(path, 'p', sizeof(path));
	path[107] = '\0';
	snprintf(arg, sizeof(arg), "socket,id=s,path=%s,server=on,wait=off", path);
	expect_parse("-chardev", arg, NULL);
	path[107] = 'p';
	path[108] = '\0';
	snprintf(arg, sizeof(arg), "socket,id=s,path=%s,server=on,wait=off", path);
	snprintf(err, sizeof(err), "wisp: -chardev %s: socket path longer than 107 bytes", arg);
	expect_parse("-chardev", arg, err);
	path[1000] = '\0';
	path[108] = 'p';
	snprintf(arg, sizeof(arg), "file,id=f,path=%s", path);
	expect_parse("-chardev", arg, NULL);
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

/* ... and so do the drives, netdevs, chardevs and devices. */
static void test_reparse_devices(void **state)
{
	const char *argv[] = {"wisp",
			      "-drive",
			      "file=a,if=virtio",
			      "-netdev",
			      "tap,id=n,ifname=t",
			      "-chardev",
			      "file,id=c,path=/p",
			      "-device",
			      "virtio-net-pci,netdev=n"};
	struct config c;
	char err[128];

	(void)state;
	assert_int_equal(config_parse(&c, 9, (char **)argv, err, sizeof(err)), 0);
	assert_int_equal(c.nr_drives + c.nr_netdevs + c.nr_chardevs + c.nr_pci_devs, 5);
	assert_int_equal(config_parse(&c, 1, (char **)argv, err, sizeof(err)), 0);
	assert_int_equal(c.nr_drives + c.nr_netdevs + c.nr_chardevs + c.nr_pci_devs, 0);
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
		"-drive file=",
		"if=virtio|none",
		"format=raw",
		"readonly=on|off",
		"cache=none|writeback|writethrough|directsync|unsafe",
		"cache.direct=",
		"aio=io_uring|threads|native",
		"discard=unmap|ignore",
		"-netdev tap,id=id,ifname=",
		"script=no",
		"downscript=no",
		"-chardev stdio,id=id",
		"-chardev file,id=id,path=path",
		"-chardev socket,id=id,path=path,server=on,wait=off",
		"-device virtio-blk-pci,drive=id",
		"num-queues=",
		"serial=",
		"-device virtio-net-pci,netdev=id",
		"mac=",
		"-device virtio-rng-pci",
		"max-bytes=",
		"period=",
		"-device virtio-serial-pci",
		"-device virtconsole,chardev=id",
		"bus=",
		"addr=",
		"maximum 255G",
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
		cmocka_unit_test(test_missing_argument), cmocka_unit_test(test_argc_respected),
		cmocka_unit_test(test_argv_untouched),	 cmocka_unit_test(test_length_limits),
		cmocka_unit_test(test_err_buffer),	 cmocka_unit_test(test_reparse),
		cmocka_unit_test(test_reparse_devices),	 cmocka_unit_test(test_usage),
		cmocka_unit_test(test_monitors),	 cmocka_unit_test(test_sandbox_switch),
		cmocka_unit_test(test_device_limits),	 cmocka_unit_test(test_drive_file_copied),
		cmocka_unit_test(test_monitor_chardevs), cmocka_unit_test(test_chardev_paths),
	};
	enum {
		N = ARRAY_SIZE(fixed) + ARRAY_SIZE(goods) + ARRAY_SIZE(dev_goods) + ARRAY_SIZE(bads)
	};
	static struct CMUnitTest tests[N];
	static char labels[N][300];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		tests[n++] = fixed[i];
	for (size_t i = 0; i < ARRAY_SIZE(goods); i++, n++) {
		label_argv(labels[n], sizeof(labels[n]), "ok", goods[i].argv);
		tests[n] = (struct CMUnitTest){labels[n], test_good, NULL, NULL, (void *)&goods[i]};
	}
	for (size_t i = 0; i < ARRAY_SIZE(dev_goods); i++, n++) {
		label_argv(labels[n], sizeof(labels[n]), "ok", dev_goods[i].argv);
		tests[n] = (struct CMUnitTest){labels[n], test_dev_good, NULL, NULL,
					       (void *)&dev_goods[i]};
	}
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++, n++) {
		label_argv(labels[n], sizeof(labels[n]), "refused", bads[i].argv);
		tests[n] = (struct CMUnitTest){labels[n], test_bad, NULL, NULL, (void *)&bads[i]};
	}
	return _cmocka_run_group_tests("config", tests, n, NULL, NULL);
}
