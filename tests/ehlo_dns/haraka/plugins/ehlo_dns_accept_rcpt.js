// tests/ehlo_dns: accepts every recipient, so that whatever refuses a
// transaction in this Haraka is helo.checks (or Haraka itself).
exports.register = function () {
  this.register_hook('rcpt', 'accept')
}

exports.accept = function (next) {
  next(OK)
}
