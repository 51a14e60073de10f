# syntax=docker/dockerfile:1
# The operator's image: one statically linked binary (musl, rustls) on distroless/static, which has CA
# certificates and a nonroot user but no shell or libc. Build with BuildKit:
#   docker build -t ghcr.io/eks-operator/eks-operator:0.1.0 .
#   docker buildx build --platform linux/amd64,linux/arm64 -t ghcr.io/eks-operator/eks-operator:0.1.0 .

FROM rust:1-bookworm AS build
# musl-tools is the C compiler for the musl target: ring and aws-lc-sys (the TLS crypto) compile C and assembly.
# cmake is aws-lc-sys's fallback build where its built-in one does not cover the target.
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools cmake \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The platform being built for (set by BuildKit); amd64 when built without it. The build step is the repository's
# scripts/build-static-binary.sh (musl target, static check, smoke run), the same one run outside containers.
# The caches keep the crate downloads and compiled dependencies between builds; the binary is copied out of the
# target cache in the same step, since cache mounts are not part of the image.
ARG TARGETARCH
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    TARGETARCH="${TARGETARCH:-amd64}" scripts/build-static-binary.sh /eks-operator

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /eks-operator /eks-operator
# The same uid the chart's securityContext requires (runAsNonRoot needs it numeric).
USER 65532:65532
# /metrics, /healthz and /readyz.
EXPOSE 8080
ENTRYPOINT ["/eks-operator"]
CMD ["run"]
