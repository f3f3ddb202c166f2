#!/usr/bin/env bash
# Time `python train.py` (the offline default run, or the overrides given as arguments) and print
# the wall time, the machine and the run's metrics.json.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
run_dir=outputs/benchmarks/$(date +%Y-%m-%d_%H-%M-%S)

start=$(date +%s)
"$python" train.py "hydra.run.dir=$run_dir" callbacks.progress_bar.refresh_rate=0 "$@"
end=$(date +%s)

echo "wall time: $((end - start)) s"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
cat "$run_dir/metrics.json"
