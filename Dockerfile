# The clickup-members container image: one static binary (musl) on an empty base, run as a
# non-root user, with the CA certificates TLS needs and nothing else.
#
#   docker build -t clickup-members .
#   docker run --rm -e CLICKUP_TOKEN -v "$PWD:/work" clickup-members plan -f clickup/members.yaml

FROM rust:1.95-alpine AS build
SHELL ["/bin/ash", "-eo", "pipefail", "-c"]
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev ca-certificates cmake make perl binutils
WORKDIR /src
COPY . .
# A binary that asks for a program interpreter is dynamic and would not start on scratch.
RUN cargo build --release --locked \
    && cp target/release/clickup-members /clickup-members \
    && if readelf -l /clickup-members | grep -q 'program interpreter'; then echo "not static" >&2; exit 1; fi \
    && /clickup-members --version

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /clickup-members /usr/local/bin/clickup-members
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# A user id without a name: nothing in the image runs as root.
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/clickup-members"]
CMD ["--help"]
