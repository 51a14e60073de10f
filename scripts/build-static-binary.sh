#!/usr/bin/env bash
# Builds the statically linked eks-operator binary the container image ships: musl, rustls, no libc at run
# time. The Dockerfile's build stage runs exactly this script, so building it outside a container checks the
# image's build step too.
#
#   scripts/build-static-binary.sh [OUTPUT]     (default OUTPUT: <target dir>/static/eks-operator)
#
# TARGETARCH (amd64, the default, or arm64) picks the musl target, as BuildKit sets it. Needs a C compiler for
# the target (Debian: musl-tools) because ring and aws-lc-sys compile C and assembly. After the build the
# script checks that the binary is static and that it runs.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

case "${TARGETARCH:-amd64}" in
  amd64) target=x86_64-unknown-linux-musl ;;
  arm64) target=aarch64-unknown-linux-musl ;;
  *) echo "build-static-binary: unsupported architecture ${TARGETARCH}" >&2; exit 1 ;;
esac

if ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi
if ! command -v musl-gcc >/dev/null 2>&1; then
  echo "build-static-binary: musl-gcc not found; install musl-tools (apt-get install musl-tools)" >&2
  exit 1
fi

target_dir="${CARGO_TARGET_DIR:-$repo/target}"
output="${1:-$target_dir/static/eks-operator}"
cd "$repo"
cargo build --release --locked --target "$target" -p eks-operator
mkdir -p "$(dirname "$output")"
cp "$target_dir/$target/release/eks-operator" "$output"
# Symbols are of no use in the image; stripping halves the binary.
strip "$output" 2>/dev/null || true

# Static: no program interpreter (the dynamic loader) in the ELF headers.
if readelf --program-headers "$output" | grep -q INTERP; then
  echo "build-static-binary: $output is dynamically linked" >&2
  exit 1
fi
if [ "${target%%-*}" = "$(uname -m)" ]; then
  "$output" --version >/dev/null
  "$output" crd >/dev/null
  "$output" plan -f "$repo/deploy/examples/cloudlad-two-regions.yaml" >/dev/null
fi
echo "$output"
