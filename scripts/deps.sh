# Sourced by scripts/run and scripts/test: installs missing Debian packages.
# Usage: ensure_packages pkg...   (apt-get update runs once, only if needed)

ensure_packages() {
  local missing=()
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "Install them as root, then run this again:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing Debian packages: ${missing[*]}"
  if [ -z "${SANSMTP_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    export SANSMTP_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# What building the library and the CLI needs.
BUILD_PACKAGES=(cmake ninja-build g++ pkg-config ragel libfmt-dev nlohmann-json3-dev libcli11-dev libidn2-dev
                libssl-dev libasio-dev libc-ares-dev)
# What the full test run adds: Catch2, clang with libFuzzer and sanitizers,
# Google Benchmark, the real SMTP peers of the interop tests, and the
# authoritative DNS server the resolver's tests ask (knot), and the load
# balancers the PROXY protocol is tested behind (HAProxy, nginx's stream
# module; run privately on 127.0.0.1 by tests/interop/proxy.sh).
TEST_PACKAGES=(catch2 clang libclang-rt-14-dev llvm-14 libbenchmark-dev python3 python3-aiosmtpd swaks
               libnet-ssleay-perl openssl postfix valgrind zip unzip knot knot-dnsutils iproute2
               haproxy nginx-light libnginx-mod-stream)

# Node.js and npm for the interop peers (Nodemailer): Debian's packages unless
# a Node.js is already installed (NodeSource's nodejs bundles npm and
# conflicts with Debian's npm package).
ensure_node() {
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then return 0; fi
  ensure_packages nodejs npm
}

build_jobs() { echo "${SANSMTP_JOBS:-2}"; }
