# A throw-away single-node SLURM on this machine, for tests/hpc/run.sh (source
# it, then slurm_start DIR / slurm_stop). munged, slurmctld and slurmd from
# Debian run as root with their own configuration, sockets, ports, state and
# logs under DIR: nothing in /etc is touched. Processes are tracked by
# proctrack/linuxproc (no cgroups), so it runs in containers too. The node
# is "localhost" with 2 CPUs and this machine's memory; cred_expire=10 lets
# a requeued job start again after 10 s instead of SLURM's default 120 s.
# The node has 2 GPUs of gres type gpu whose device files are character
# devices made in DIR/dev (mknod; nothing under /dev): SLURM allocates and
# binds them (CUDA_VISIBLE_DEVICES) as on a GPU node, for the GPU scripts'
# dry runs; nothing can run CUDA on them.

# slurm_start DIR: starts the daemons and waits until the node is idle;
# exports SLURM_CONF so that sbatch, squeue, scontrol use this cluster.
slurm_start() {
	SLURM_DIR=$1
	local d=$SLURM_DIR host port mem
	host=$(hostname -s)
	mem=$(($(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024))
	port=$((20000 + RANDOM % 20000))
	mkdir -p "$d/state" "$d/spool" "$d/munge" "$d/logs" "$d/dev"
	mknod "$d/dev/nvidia0" c 195 0 && mknod "$d/dev/nvidia1" c 195 1 || return 1
	printf 'Name=gpu File=%s/dev/nvidia[0-1]\n' "$d" >"$d/gres.conf"
	chmod 700 "$d/munge"
	dd if=/dev/urandom of="$d/munge/munge.key" bs=1024 count=1 status=none
	chmod 400 "$d/munge/munge.key"
	munged --force --key-file="$d/munge/munge.key" --socket="$d/munge/munge.sock" \
		--pid-file="$d/munge/munged.pid" --log-file="$d/munge/munged.log" \
		--seed-file="$d/munge/munged.seed" || return 1
	cat >"$d/slurm.conf" <<CONF
ClusterName=gftest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$d/munge/munge.sock,cred_expire=10
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/slurmctld.log
SlurmdLogFile=$d/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
JobRequeue=1
KillWait=10
SlurmdTimeout=60
InactiveLimit=0
MinJobAge=300
GresTypes=gpu
NodeName=localhost NodeHostname=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=$mem Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
	export SLURM_CONF=$d/slurm.conf
	slurmctld -f "$SLURM_CONF" -i || return 1
	slurmd -f "$SLURM_CONF" -N localhost || return 1
	local i
	for i in $(seq 60); do
		sinfo -h -N -o '%t' 2>/dev/null | grep -qx idle && return 0
		sleep 1
	done
	echo "slurm: the node did not come up; logs in $d" >&2
	return 1
}

# slurm_stop: ends the daemons started by slurm_start (by their pid files).
slurm_stop() {
	local d=$SLURM_DIR f
	[ -n "$d" ] || return 0
	for f in "$d/slurmd.pid" "$d/slurmctld.pid" "$d/munge/munged.pid"; do
		[ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	sleep 1
}
