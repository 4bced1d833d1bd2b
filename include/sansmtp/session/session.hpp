// What the server and the client sessions share.
#pragma once

namespace sansmtp {

// What to do with plaintext that arrives after STARTTLS and before the TLS
// handshake. Server side it is a command injection (CVE-2011-0411: it would
// run inside the TLS session); client side a response injection (a forged
// "250-STARTTLS" or capability line trusted after TLS: the "NO STARTTLS"
// study, USENIX Security 2021).
enum class starttls_injection {
  reject,   // default: a fatal error; nothing of it is parsed
  discard,  // LENIENCY: drop the bytes (RFC 3207 §4.2 allows no more than this)
};

}  // namespace sansmtp
