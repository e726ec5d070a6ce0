# Disk-space helpers for the CI scripts (sourced, not run).
#
# A full CI run builds the workspace for the host and for eight other
# targets, about 7 GB of build output in all. CI machines do not promise
# that much free space (one run failed with "No space left on device"
# half way through the cross targets), so each stage's build output is
# removed once nothing later needs it, whenever free space is short.
# A machine with room to spare keeps everything, so warm reruns stay fast.
#
#   disk_report LABEL          print the free space under the target dir
#   prune_when_low DIR...      remove DIRs if free space < KILN_CI_MIN_FREE_GB
#                              (default 20)

# free_gb: whole GiB free on the file system that holds the target dir.
free_gb() {
    local dir="${CARGO_TARGET_DIR:-$ROOT/target}"
    [ -d "$dir" ] || dir="$ROOT"
    local kb
    kb="$(df -Pk "$dir" 2>/dev/null | awk 'NR == 2 { print $4 }')"
    echo $((${kb:-0} / 1048576))
}

disk_report() {
    echo "==> disk ($1): $(free_gb) GiB free under ${CARGO_TARGET_DIR:-$ROOT/target}"
}

prune_when_low() {
    local free
    free="$(free_gb)"
    if [ "$free" -ge "${KILN_CI_MIN_FREE_GB:-20}" ]; then
        return 0
    fi
    local d
    for d in "$@"; do
        if [ -e "$d" ]; then
            echo "==> disk: ${free} GiB free, removing finished build output $d"
            rm -rf "$d"
        fi
    done
}
