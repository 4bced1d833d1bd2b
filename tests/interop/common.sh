# Sourced by the interop scripts: the interpreter they share and the checks
# for what they need, each failing with the command that installs it.
# Expects HERE (the scripts' folder) to be set.
PY=/usr/bin/python3  # Debian's, with python3-aiosmtpd; not a pyenv python3 on PATH
die() { echo "ERROR: $*" >&2; exit 2; }
# need_sansmtp PATH: the CLI under test.
need_sansmtp() { [[ -x ${1:-} ]] || die "sansmtp binary '${1:-}' missing"; }
need_aiosmtpd() { $PY -I -c 'import aiosmtpd' 2>/dev/null || die "python3-aiosmtpd missing (apt-get install python3-aiosmtpd)"; }
# need_node_module NAME: node and an npm package of tests/interop.
need_node_module() {
  command -v node >/dev/null || die "node missing"
  [[ -d $HERE/node_modules/$1 ]] || die "run: npm ci --prefix tests/interop"
}
# need_command NAME PACKAGE
need_command() { command -v "$1" >/dev/null || die "$1 missing (apt-get install $2)"; }
