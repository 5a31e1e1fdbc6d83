# bench/timed.bash: the timing helpers bench/ledger.sh and bench/ledger_pg.sh share (sourced;
# DIR must be set to the bench's scratch directory, N to its event count).
timed() { # label, command...: prints wall and CPU seconds, peak RSS and the load; sets WALL
    local label=$1; shift
    local t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f "%U %S %M" -o "$DIR/cpu" "$@" >"$DIR/out" 2>"$DIR/err"
    local rc=$?
    t1=$(date +%s.%N)
    WALL=$(echo "$t1 - $t0" | bc)
    read -r u s kb <"$DIR/cpu" 2>/dev/null || { u=0; s=0; kb=0; }
    printf "%-48s wall %7.2f s  cpu %7.2f s  rss %5d MB  load %s %s\n" "$label" "$WALL" "$(echo "$u + $s" | bc)" "$((kb / 1024))" \
        "$(cut -d' ' -f1 /proc/loadavg)" "$( [ $rc -ne 0 ] && echo "(exit $rc: $(head -c 300 "$DIR/err"))")"
}
rate() { echo "$N / $1" | bc; } # events per second at a wall time
