#!/usr/bin/env bash
# The accelerator check (issue 14, section 3): one prepared script for the day a device is lent.
#
#   bash benchmarks/accelerator_check.sh          # from anywhere; at most 8 minutes: the parts' limits add up to 480 s
#
# Prints a markdown table (and keeps every part's full output in $LOG, printed at the end):
#   the device; the tests that exercise the trainer, run on it; the trainer's throughput against the
#   device's own matmul peak, in float32 and in bfloat16 (train.matmul_precision); the main job's wall
#   time (configs/heavy_tail_linear.py, as the README runs it); a paper-size linear run
#   (configs/heavy_tail_linear.py:paper, m = 11: N = 22528, d = 24576, C = 2047; 300 steps of one GD
#   member) with its steps/s, and its memory per member from XLA's memory analysis.
# A part that fails or runs out of its time shows "FAILED (exit N)" and the check goes on.
# To check the script itself on a CPU in a minute, with everything shrunk: TINY=1 bash benchmarks/accelerator_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # tests start subprocesses next to pytest on the same device
LOG=${LOG:-$(mktemp -d /tmp/accelerator_check.XXXXXX)}

if [[ "${TINY:-0}" == 1 ]]; then
  TESTS="tests/test_matmul_precision.py"
  PEAK_SIZE=256; THROUGHPUT="--repeats=1 --chunks=1 --chunk_steps=5"
  MAIN_CONFIG="configs/theory_softmax.py:small"
  PAPER_VARIANT=""; PAPER="--repeats=1 --chunks=1 --chunk_steps=5"; MEMBERS="1,2"
else
  TESTS="tests/test_train.py tests/test_per_class_gradients.py tests/test_matmul_precision.py"  # ~80 s of CPU on a 2-core CPU
  PEAK_SIZE=8192; THROUGHPUT="--repeats=3 --chunks=3 --chunk_steps=100"
  MAIN_CONFIG="configs/heavy_tail_linear.py"
  PAPER_VARIANT="paper"; PAPER="--repeats=1 --chunks=2 --chunk_steps=100"; MEMBERS="1,2"  # 300 steps: 1 compiling + 2 timed chunks
fi

ROWS=()
row() { ROWS+=("| $1 | $2 |"); }

# part NAME SECONDS COMMAND...: runs COMMAND with a time limit, its output in $LOG/NAME.log;
# sets RC and SECS (wall seconds).
part() {
  local name=$1 limit=$2; shift 2
  local start=$(date +%s.%N)
  timeout --kill-after=10 "$limit" "$@" >"$LOG/$name.log" 2>&1
  RC=$?
  SECS=$(python3 -c "print(f'{$(date +%s.%N) - $start:.0f}')")
  echo "[$name] exit $RC after ${SECS} s" >&2
}
failed() { echo "FAILED (exit $RC after ${SECS} s; $LOG/$1.log)"; }
result() { grep '^RESULT' "$LOG/$1.log" | tail -1 | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }

part device 20 python -c "
import jax
d = jax.devices()
print(f'{d[0].device_kind} ({d[0].platform}) x {len(d)}, jax {jax.__version__}')"
if [[ $RC == 0 ]]; then
  row "device" "$(tail -1 "$LOG/device.log")$(command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1 | sed 's/^/; nvidia-smi: /')"
else
  row "device" "$(failed device)"
fi

part tests 150 python -m pytest -q -m "not slow" -p no:cacheprovider $TESTS
summary=$(grep -E '[0-9]+ (passed|failed)' "$LOG/tests.log" | tail -1)
row "tests on the device ($TESTS)" "${summary:-$(failed tests)}; exit $RC"

for precision in float32 bfloat16; do
  part "throughput_$precision" 40 python benchmarks/train_throughput.py $THROUGHPUT --peak_size=$PEAK_SIZE --precision=$precision
  if [[ $RC == 0 ]]; then
    row "trainer throughput, $precision (heavy_tail_linear GD member)" \
      "$(result throughput_$precision steps_per_s) steps/s = $(result throughput_$precision gflops) GFLOP/s; ${PEAK_SIZE}² matmul peak $(result throughput_$precision peak_gflops) GFLOP/s; ratio $(result throughput_$precision ratio); $(result throughput_$precision ratio_bare) of the bare matmul pair"
  else
    row "trainer throughput, $precision" "$(failed throughput_$precision)"
  fi
done

part main 90 python -m dynamics.main --config=$MAIN_CONFIG --workdir="$LOG/main_workdir"
if [[ $RC == 0 ]]; then
  row "main job: python -m dynamics.main --config=$MAIN_CONFIG" "${SECS} s wall (compilation included)"
else
  row "main job: $MAIN_CONFIG" "$(failed main)"
fi

part paper 90 python benchmarks/train_throughput.py $PAPER --variant=$PAPER_VARIANT --peak_size=$PEAK_SIZE
if [[ $RC == 0 ]]; then
  row "heavy_tail_linear:${PAPER_VARIANT:-default} GD member, float32" \
    "$(result paper steps_per_s) steps/s = $(result paper gflops) GFLOP/s (ratio $(result paper ratio) to the matmul peak); ${SECS} s wall for data, compilation and the steps"
else
  row "heavy_tail_linear:${PAPER_VARIANT:-default} steps/s" "$(failed paper)"
fi

part memory 50 python benchmarks/sweep_memory.py --variant=$PAPER_VARIANT --members=$MEMBERS --grad_norm=False,True
if [[ $RC == 0 ]]; then
  row "heavy_tail_linear:${PAPER_VARIANT:-default} memory (Adam member, XLA memory analysis)" \
    "$(grep -o 'per_class_grad_norm=.*MiB shared' "$LOG/memory.log" | sed 's/: M=.*-> / /' | paste -sd ';' - | sed 's/;/; /g')"
else
  row "heavy_tail_linear:${PAPER_VARIANT:-default} memory" "$(failed memory)"
fi

echo
echo "| check | result |"
echo "|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Full output of each part: $LOG"
