# Shared by guest-tests/linux/rig, scripts/demo and bench/boot-linux (sourced, bash).
# Knows where things are, how to start an L2 VM under wisp or QEMU, and how to run
# a batch (a job.sh in a results directory) either directly on a host with VMX/SVM
# or inside the nested rig: an L1 Linux under QEMU TCG that sees the host's root
# read-only over 9p and writes into the results directory over a second 9p share.

lx_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lx_repo=$(cd "$lx_here/../.." && pwd)
# Outputs go to the meson build directory (scripts/check's BUILD), under linux/.
lx_build=${BUILD:-build}
[ "${lx_build#/}" != "$lx_build" ] || lx_build=$lx_repo/$lx_build
lx_out=${WISP_LINUX_OUT:-$lx_build/linux}
lx_kver=${WISP_KVER:-$(ls /boot/vmlinuz-* 2>/dev/null | sed 's|.*/vmlinuz-||' | sort -V | tail -n1)}
lx_kernel=/boot/vmlinuz-$lx_kver
lx_initrd=$lx_out/l2.cpio.gz
lx_vmlinux=$lx_out/vmlinux # the same kernel uncompressed, for PVH boots
lx_wisp=${WISP:-$lx_build/vmm/wisp}
lx_qemu=${QEMU:-qemu-system-x86_64}
# Extra words for the L2 kernel command line, e.g. WISP_L2_APPEND_EXTRA="loglevel=8".
lx_append_extra=${WISP_L2_APPEND_EXTRA:-}
# The rig's L1: memory (MiB), vCPUs, and the message said when it is used.
lx_l1_mem=${WISP_RIG_MEM:-3072}
lx_l1_smp=${WISP_RIG_SMP:-2}
lx_rig_line="no VMX/SVM on this host: running real-Linux tests inside the nested rig (L1 under QEMU TCG)"

lx_die() { echo "${0##*/}: $*" >&2; exit 2; }

# True when KVM here is backed by hardware virtualization, so L2 runs directly.
# WISP_RIG=always|never overrides the guess.
lx_have_hw_virt() {
	case ${WISP_RIG:-auto} in
	always) return 1 ;;
	never) return 0 ;;
	esac
	grep -qw -E 'vmx|svm' /proc/cpuinfo && [ -r /dev/kvm ] && [ -w /dev/kvm ]
}

# Make sure the kernel and both initramfs images exist (rebuilt when older than
# their sources).
lx_prepare() {
	[ -f "$lx_kernel" ] || lx_die "no kernel $lx_kernel: install linux-image-amd64 (scripts/setup-deps)"
	local src stale=0
	for src in "$lx_here/mkinitramfs" "$lx_here/l1-init" "$lx_here/l2-init"; do
		[ "$src" -nt "$lx_out/l1.cpio.gz" ] && stale=1
	done
	[ -f "$lx_out/l1.cpio.gz" ] && [ -f "$lx_out/l2.cpio.gz" ] || stale=1
	[ $stale = 0 ] || "$lx_here/mkinitramfs" "$lx_out" >/dev/null || lx_die "mkinitramfs failed"
	# The same kernel as an uncompressed ELF (it carries a PVH entry note).
	if [ "$lx_kernel" -nt "$lx_vmlinux" ] || [ ! -f "$lx_vmlinux" ]; then
		"$lx_repo/tools/extract-vmlinux" "$lx_kernel" "$lx_vmlinux" || rm -f "$lx_vmlinux"
	fi
}

# lx_vmm_cmd KIND SCENARIO MEM SMP [KERNEL] [APPEND] [VMM-ARG...]: print the L2
# command line, shell-quoted. KIND is wisp or qemu (QEMU's microvm, the peer); KERNEL
# defaults to the bzImage; APPEND is more kernel command line for this VM; VMM-ARGs
# go to the VMM before -kernel (e.g. -bios FIRMWARE).
lx_vmm_cmd() {
	local kind=$1 scen=$2 mem=$3 smp=$4 kernel=${5:-$lx_kernel} more=${6:-}
	local -a extra=()
	[ $# -le 6 ] || extra=("${@:7}")
	local append="console=ttyS0 quiet wisp.scenario=$scen wisp.vmm=$kind"
	[ -z "$more" ] || append+=" $more"
	[ -z "$lx_append_extra" ] || append+=" $lx_append_extra"
	local -a cmd
	case $kind in
	wisp) cmd=("$lx_wisp") ;;
	qemu) cmd=("$lx_qemu" -M microvm -nodefaults -accel kvm -cpu host -serial stdio) ;;
	*) lx_die "unknown VMM kind $kind (wisp or qemu)" ;;
	esac
	cmd+=("${extra[@]}" -kernel "$kernel" -initrd "$lx_initrd" -append "$append" -m "$mem" -smp "$smp" -nographic)
	printf '%q ' "${cmd[@]}"
}

# lx_job_run OUTDIR KIND SCENARIO MEM SMP [run-l2 options]: append to OUTDIR/job.sh
# a line that runs one L2 VM, recording OUTDIR/<name>.log and .result, where name
# is given by --name (default KIND-SCENARIO). --kernel K boots K, --append WORDS
# adds to the kernel command line, --vmm-arg A passes A to the VMM (repeatable),
# --virtio runs the VM through virtio-l2 (every virtio device, with its far ends set
# up; also OUTDIR/<name>.host and .stderr).
lx_job_run() {
	local dir=$1 kind=$2 scen=$3 mem=$4 smp=$5 name="$2-$3" kernel=$lx_kernel more=
	local runner=$lx_here/run-l2
	shift 5
	local -a opts=() vargs=()
	while [ $# -gt 0 ]; do
		case $1 in
		--name) name=$2; shift ;;
		--vmm-arg) vargs+=("$2"); shift ;;
		--kernel) kernel=$2; shift ;;
		--append) more=$2; shift ;;
		--virtio) runner=$lx_here/virtio-l2; opts+=(--kind "$kind") ;;
		*) opts+=("$1") ;;
		esac
		shift
	done
	[ -z "${WISP_RIG_TRACE:-}" ] || echo 'echo > "$T/trace"' >>"$dir/job.sh"
	printf '%q ' "$runner" "${opts[@]}" "$dir/$name" -- >>"$dir/job.sh"
	lx_vmm_cmd "$kind" "$scen" "$mem" "$smp" "$kernel" "$more" "${vargs[@]}" >>"$dir/job.sh"
	echo >>"$dir/job.sh"
	# The last exits of each VM (timer-interrupt exits left out): where a hung
	# guest spins, which ports and MMIO it touched last.
	[ -z "${WISP_RIG_TRACE:-}" ] ||
		printf 'grep -v "reason interrupt" "$T/trace" | tail -n 3000 >%q\n' "$dir/$name.kvmtrace" >>"$dir/job.sh"
}

# lx_job_new OUTDIR: empty OUTDIR and start its job.sh. With WISP_RIG_TRACE=1 the
# job turns on KVM's exit, port I/O, MMIO and MSR tracepoints (in L1, or on the
# host when running directly) and keeps each VM's last exits in NAME.kvmtrace.
lx_job_new() {
	rm -rf "$1"
	mkdir -p "$1"
	printf '# generated by %s\nset -u\n' "${0##*/}" >"$1/job.sh"
	[ -z "${WISP_RIG_TRACE:-}" ] || cat >>"$1/job.sh" <<'TRACE'
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs tracefs $T
echo 16384 >$T/buffer_size_kb
for e in kvm_exit kvm_pio kvm_mmio kvm_msr; do echo 1 >$T/events/kvm/$e/enable; done
TRACE
}

# lx_batch OUTDIR TIMEOUT [stream]: run OUTDIR/job.sh, directly or in the rig.
# With "stream", L1's console (which carries the L2 console of --stream runs) goes
# to stdout as it comes. Sets lx_mode (direct|rig) and lx_rig_error (why the batch
# did not complete, empty when it did). L1's console is kept in OUTDIR/l1.log.
lx_batch() {
	local dir=$1 tmo=$2 stream=${3:-} rc
	lx_rig_error=
	if lx_have_hw_virt; then
		lx_mode=direct
		(cd "$dir" && timeout -k 10 "$tmo" bash ./job.sh)
		rc=$?
		[ $rc = 0 ] || lx_rig_error="job.sh exited with $rc"
		return 0
	fi
	lx_mode=rig
	command -v "$lx_qemu" >/dev/null || lx_die "no $lx_qemu: install QEMU (scripts/setup-deps)"
	local -a l1=(timeout -k 10 "$tmo" "$lx_qemu"
		-accel tcg,thread=multi -cpu max -smp "$lx_l1_smp" -m "$lx_l1_mem"
		-nodefaults -nographic -serial stdio -no-reboot
		-kernel "$lx_kernel" -initrd "$lx_out/l1.cpio.gz"
		-append "console=ttyS0 quiet loglevel=3 mitigations=off panic=-1 rig.results=$dir"
		-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap
		-virtfs "local,path=$dir,mount_tag=results,security_model=none,multidevs=remap")
	local t0=${EPOCHREALTIME/./}
	if [ "$stream" = stream ]; then
		# Keep SeaBIOS's screen-clearing escapes off the terminal.
		"${l1[@]}" </dev/null 2>"$dir/l1.stderr" | tee "$dir/l1.log" |
			grep --line-buffered -v -e '^RIG-L1-' -e 'SeaBIOS' -e '^Booting from ROM' -e 'reboot: Power down' |
			sed -u 's/\x1b[^a-zA-Z]*[a-zA-Z]//g; s/\r$//'
		rc=${PIPESTATUS[0]}
	else
		"${l1[@]}" </dev/null >"$dir/l1.log" 2>"$dir/l1.stderr"
		rc=$?
	fi
	lx_l1_ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	lx_l1_ready=$(sed -n 's/.*RIG-L1-READY uptime=\([0-9.]*\).*/\1/p' "$dir/l1.log" | tr -d '\r')
	if grep -q 'tcg_handle_interrupt' "$dir/l1.stderr" 2>/dev/null; then
		lx_rig_error="the nested rig itself aborted (outer QEMU: tcg_handle_interrupt assertion failed, a QEMU TCG bug), not a failure of the VMM under test"
	elif [ $rc = 124 ] || [ $rc = 137 ]; then
		lx_rig_error="the nested rig (L1) timed out after ${tmo}s"
	elif [ $rc != 0 ]; then
		lx_rig_error="the outer QEMU exited with status $rc: $(tail -n3 "$dir/l1.stderr" | tr '\n' ' ')"
	elif grep -q 'RIG-L1-ERROR' "$dir/l1.log"; then
		lx_rig_error="L1 setup failed: $(grep -m1 RIG-L1-ERROR "$dir/l1.log" | tr -d '\r')"
	elif [ ! -f "$dir/job.rc" ]; then
		lx_rig_error="L1 never finished the batch (no job.rc)"
	elif ! grep -q '^0$' "$dir/job.rc"; then
		lx_rig_error="the batch exited with status $(cat "$dir/job.rc") inside L1"
	fi
	return 0
}

# lx_result FILE KEY: one value from a run-l2 .result file.
lx_result() { sed -n "s/^$2=//p" "$1" 2>/dev/null; }
