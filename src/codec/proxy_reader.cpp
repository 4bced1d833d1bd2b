// The PROXY protocol reader and writer (HAProxy's proxy-protocol.txt).
// Version 1 goes through the Ragel machine of grammar/proxy_v1.rl; version
// 2 is a bounded binary parser. Both buffer the header's octets (at most
// 107 for v1, max_v2_size for v2) and nothing after it.
#include <sansmtp/codec/proxy_header.hpp>

#include <sansmtp/syntax/ehlo_argument.hpp>

#include "proxy_v1.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

namespace sansmtp {
namespace {

// Section 2.2: the 12-octet signature, then the version (2) in the high nibble.
constexpr std::array<unsigned char, 12> v2_signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                        0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
// Section 2.1: "PROXY UNKNOWN ffff:...:ffff ffff:...:ffff 65535 65535\r\n".
constexpr std::size_t v1_max = 107;
constexpr std::size_t v2_fixed = 16;
constexpr std::size_t v2_unix_block = 216;

// Section 2.2 types.
constexpr std::uint8_t pp2_alpn = 0x01, pp2_authority = 0x02, pp2_crc32c = 0x03, pp2_noop = 0x04,
                       pp2_unique_id = 0x05, pp2_ssl = 0x20, pp2_ssl_version = 0x21, pp2_ssl_cn = 0x22,
                       pp2_ssl_cipher = 0x23, pp2_ssl_sig_alg = 0x24, pp2_ssl_key_alg = 0x25, pp2_netns = 0x30;

std::uint16_t be16(const unsigned char* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// A TLV at `at` that ends by `end` (section 2.2: type, 16-bit length, value);
// nullopt when its header or value overruns, with `error_at` the octet to blame.
struct tlv_view {
  std::uint8_t type;
  std::size_t length;
};
std::optional<tlv_view> tlv_at(const unsigned char* h, std::size_t at, std::size_t end, std::size_t& error_at) {
  if (end - at < 3) {
    error_at = at;
    return std::nullopt;
  }
  const std::size_t length = be16(h + at + 1);
  if (end - at - 3 < length) {
    error_at = at + 1;
    return std::nullopt;
  }
  return tlv_view{h[at], length};
}

std::string ipv4_text(const unsigned char* p) {
  char text[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, p, text, sizeof text) ? std::string(text) : std::string();
}
// RFC 5952 section 4 text: lower-case hexadecimal groups without leading
// zeros, the longest run of two or more zero groups (the first of equal
// runs) as "::". Never the dotted IPv4 tail inet_ntop writes for "::a.b.c.d"
// and "::ffff:a.b.c.d": a v1 line allows only hexadecimal groups.
std::string ipv6_text(const unsigned char* p) {
  std::uint16_t g[8];
  for (int i = 0; i < 8; ++i) g[i] = static_cast<std::uint16_t>((p[2 * i] << 8) | p[2 * i + 1]);
  int best = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j == i ? i + 1 : j;
  }
  std::string out;
  char hex[8];
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(hex, sizeof hex, "%x", g[i]);
    out += hex;
  }
  return out;
}

// CRC32c (Castagnoli, reflected polynomial 0x82F63B78), RFC 4960 Appendix B.
constexpr std::array<std::uint32_t, 256> crc32c_table = [] {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}();

std::uint32_t crc32c(std::string_view data) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (const unsigned char ch : data) c = crc32c_table[(c ^ ch) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

}  // namespace

proxy_reader::proxy_reader(proxy_reader_options options) : options_(options) {
  if (options_.max_v2_size != 0) options_.max_v2_size = std::max(options_.max_v2_size, v2_fixed + v2_unix_block);
  buffer_.reserve(v1_max);
}

proxy_step proxy_reader::fail(errc code, std::uint64_t at, std::size_t consumed) {
  error_ = parse_error{code, at};
  offset_ += consumed;
  return {proxy_status::error, consumed};
}

proxy_step proxy_reader::next(std::string_view input) {
  if (error_) return {proxy_status::error, 0};
  if (done_) return {proxy_status::header, 0};
  if (input.empty()) return {proxy_status::need_data, 0};
  if (buffer_.empty()) {
    // Section 2.2's detection, decided by the first octet: "P" is v1,
    // CR the v2 signature; anything else is no PROXY header.
    const char first = input.front();
    const bool v1 = first == 'P', v2 = first == '\r';
    if (!v1 && !v2) return fail(errc::bad_proxy_header, offset_, 1);
    if ((v1 && options_.accept == proxy_accept::v2) || (v2 && options_.accept == proxy_accept::v1))
      return fail(errc::proxy_version_not_allowed, offset_, 1);
    header_.version = v1 ? proxy_version::v1 : proxy_version::v2;
    if (v1) {
      const auto begin = detail::proxy_v1_begin();
      v1_state_ = begin.cs;
    }
  }
  return header_.version == proxy_version::v1 ? next_v1(input) : next_v2(input);
}

proxy_step proxy_reader::next_v1(std::string_view input) {
  const std::size_t before = buffer_.size();
  const std::size_t take = std::min(input.size(), v1_max - before);
  buffer_.append(input.substr(0, take));
  detail::proxy_v1_scan s;
  s.cs = v1_state_;
  s.family = v1_family_;
  std::copy(std::begin(v1_marks_), std::end(v1_marks_), std::begin(s.marks));
  detail::proxy_v1_run(s, buffer_.data(), before, buffer_.size());
  v1_state_ = s.cs;
  v1_family_ = s.family;
  std::copy(std::begin(s.marks), std::end(s.marks), std::begin(v1_marks_));
  if (s.failed) return fail(errc::bad_proxy_header, offset_ - before + s.error_at, s.error_at - before + 1);
  if (!s.end) {
    if (buffer_.size() == v1_max) return fail(errc::proxy_header_too_long, offset_ + take, take);
    offset_ += take;
    return {proxy_status::need_data, take};
  }
  // The whole line: now the values (section 2.1: decode after the CRLF).
  const std::size_t consumed = s.end - before;
  const std::uint64_t line_start = offset_ - before;
  buffer_.resize(s.end);
  header_.size = s.end;
  header_.transport = proxy_transport::stream;
  if (s.family == 0) {  // UNKNOWN: use the real endpoints
    header_.command = proxy_command::local;
    header_.family = proxy_family::unspec;
    header_.transport = proxy_transport::unspec;
  } else {
    header_.command = proxy_command::proxy;
    header_.family = s.family == 4 ? proxy_family::inet : proxy_family::inet6;
    const auto field = [&](int i) {
      return std::string_view(buffer_).substr(s.marks[2 * i], s.marks[2 * i + 1] - s.marks[2 * i]);
    };
    for (int i = 0; i < 2; ++i) {
      const auto text = field(i);
      if (s.family == 6) {
        // Hexadecimal groups and "::" only: no embedded IPv4 (section 2.1).
        const auto v6 = parse::ipv6_address(text);
        if (!v6) return fail(errc::bad_proxy_address, line_start + s.marks[2 * i], consumed);
        (i == 0 ? header_.source_address : header_.destination_address) = ipv6_text(v6->data());
      } else {
        (i == 0 ? header_.source_address : header_.destination_address) = std::string(text);
      }
    }
    for (int i = 2; i < 4; ++i) {
      unsigned value = 0;
      for (const char c : field(i)) value = value * 10 + static_cast<unsigned>(c - '0');
      if (value > 65535) return fail(errc::bad_proxy_address, line_start + s.marks[2 * i], consumed);
      (i == 2 ? header_.source_port : header_.destination_port) = static_cast<std::uint16_t>(value);
    }
  }
  done_ = true;
  offset_ += consumed;
  return {proxy_status::header, consumed};
}

proxy_step proxy_reader::next_v2(std::string_view input) {
  const std::uint64_t start = offset_ - buffer_.size();  // the header's first octet in the stream
  std::size_t consumed = 0;
  // The signature and the version, octet by octet: a mismatch is reported where it is.
  while (buffer_.size() < 13 && consumed < input.size()) {
    const auto c = static_cast<unsigned char>(input[consumed]);
    const auto i = buffer_.size();
    const bool ok = i < 12 ? c == v2_signature[i] : (c >> 4) == 2;
    buffer_.push_back(static_cast<char>(c));
    ++consumed;
    if (!ok) return fail(errc::bad_proxy_header, start + i, consumed);
  }
  // Then up to the length field, and the rest by it.
  while (buffer_.size() < v2_fixed && consumed < input.size()) buffer_.push_back(input[consumed++]);
  if (buffer_.size() < v2_fixed) {
    offset_ += consumed;
    return {proxy_status::need_data, consumed};
  }
  const auto* h = reinterpret_cast<const unsigned char*>(buffer_.data());
  const std::size_t total = v2_fixed + be16(h + 14);
  if (options_.max_v2_size != 0 && total > options_.max_v2_size)
    return fail(errc::proxy_header_too_long, start + 14, consumed);
  const std::size_t take = std::min(input.size() - consumed, total - buffer_.size());
  buffer_.append(input.substr(consumed, take));
  consumed += take;
  if (buffer_.size() < total) {
    offset_ += consumed;
    return {proxy_status::need_data, consumed};
  }
  h = reinterpret_cast<const unsigned char*>(buffer_.data());
  header_.size = total;
  const auto bad = [&](errc code, std::size_t at) { return fail(code, start + at, consumed); };

  // Section 2.2: the command, then the family and transport.
  const unsigned command = h[12] & 0x0F, family = h[13] >> 4, transport = h[13] & 0x0F;
  if (command > 1) return bad(errc::bad_proxy_header, 12);
  if (family > 3 || transport > 2) return bad(errc::bad_proxy_header, 13);
  // The combinations section 2.2 lists: \x00, \x11, \x12, \x21, \x22, \x31, \x32.
  if ((family == 0) != (transport == 0)) return bad(errc::bad_proxy_header, 13);
  header_.command = command == 1 ? proxy_command::proxy : proxy_command::local;
  header_.family = static_cast<proxy_family>(family);
  header_.transport = static_cast<proxy_transport>(transport);
  const std::size_t length = total - v2_fixed;
  // LOCAL: "discard the protocol block including the family" (section 2.2).
  if (header_.command == proxy_command::local) {
    done_ = true;
    offset_ += consumed;
    return {proxy_status::header, consumed};
  }
  std::size_t at = v2_fixed;
  const std::size_t block = family == 1 ? 12 : family == 2 ? 36 : family == 3 ? v2_unix_block : 0;
  if (length < block) return bad(errc::bad_proxy_address, 14);
  if (family == 1) {
    header_.source_address = ipv4_text(h + at);
    header_.destination_address = ipv4_text(h + at + 4);
    header_.source_port = be16(h + at + 8);
    header_.destination_port = be16(h + at + 10);
  } else if (family == 2) {
    header_.source_address = ipv6_text(h + at);
    header_.destination_address = ipv6_text(h + at + 16);
    header_.source_port = be16(h + at + 32);
    header_.destination_port = be16(h + at + 34);
  } else if (family == 3) {
    const auto path = [&](std::size_t from) {
      const auto* p = reinterpret_cast<const char*>(h + from);
      return std::string(p, strnlen(p, 108));
    };
    header_.source_address = path(at);
    header_.destination_address = path(at + 108);
  }
  at += block;

  // Section 2.2.1-2.2.8: TLVs to the end, each whole, the known ones once.
  std::uint32_t seen = 0;  // bit per known type
  const auto once = [&](unsigned bit) {
    const bool first = !(seen & (1u << bit));
    seen |= 1u << bit;
    return first;
  };
  std::size_t crc_at = 0, error_at = 0;
  while (at < total) {
    const auto tlv = tlv_at(h, at, total, error_at);
    if (!tlv) return bad(errc::bad_proxy_tlv, error_at);
    const std::uint8_t type = tlv->type;
    const std::size_t len = tlv->length;
    const std::string_view value(buffer_.data() + at + 3, len);
    switch (type) {
      case pp2_alpn:
        if (!once(0) || len == 0) return bad(errc::bad_proxy_tlv, at);
        header_.alpn = std::string(value);
        break;
      case pp2_authority:
        if (!once(1)) return bad(errc::bad_proxy_tlv, at);
        header_.authority = std::string(value);
        break;
      case pp2_crc32c:
        if (!once(2) || len != 4) return bad(errc::bad_proxy_tlv, at);
        crc_at = at + 3;
        break;
      case pp2_noop:
        break;
      case pp2_unique_id:
        if (!once(3) || len > 128) return bad(errc::bad_proxy_tlv, at);
        header_.unique_id = std::string(value);
        break;
      case pp2_ssl: {
        if (!once(4) || len < 5) return bad(errc::bad_proxy_tlv, at);
        proxy_ssl ssl;
        ssl.client = h[at + 3];
        ssl.verify = be32(h + at + 4);
        std::size_t sub = at + 8;
        const std::size_t end = at + 3 + len;
        std::uint32_t sub_seen = 0;
        while (sub < end) {
          const auto inner = tlv_at(h, sub, end, error_at);
          if (!inner) return bad(errc::bad_proxy_tlv, error_at);
          const std::uint8_t sub_type = inner->type;
          const std::size_t sub_len = inner->length;
          std::string sub_value(buffer_.data() + sub + 3, sub_len);
          std::string* field = sub_type == pp2_ssl_version   ? &ssl.version
                               : sub_type == pp2_ssl_cn      ? &ssl.common_name
                               : sub_type == pp2_ssl_cipher  ? &ssl.cipher
                               : sub_type == pp2_ssl_sig_alg ? &ssl.signature_algorithm
                               : sub_type == pp2_ssl_key_alg ? &ssl.key_algorithm
                                                             : nullptr;
          if (field) {
            const unsigned bit = sub_type - pp2_ssl_version;
            if (sub_seen & (1u << bit)) return bad(errc::bad_proxy_tlv, sub);
            sub_seen |= 1u << bit;
            *field = std::move(sub_value);
          }
          sub += 3 + sub_len;
        }
        header_.ssl = std::move(ssl);
        break;
      }
      case pp2_netns:
        if (!once(5)) return bad(errc::bad_proxy_tlv, at);
        header_.netns = std::string(value);
        break;
      default:
        header_.other_tlvs.push_back({type, std::string(value)});
        break;
    }
    at += 3 + len;
  }
  // Section 2.2.3: the checksum of the whole header with its own field zeroed.
  if (crc_at) {
    const std::uint32_t sent = be32(h + crc_at);
    std::string zeroed = buffer_;
    std::fill_n(zeroed.begin() + static_cast<std::ptrdiff_t>(crc_at), 4, '\0');
    if (crc32c(zeroed) != sent) return bad(errc::proxy_checksum_mismatch, crc_at);
    header_.checksum_verified = true;
  }
  done_ = true;
  offset_ += consumed;
  return {proxy_status::header, consumed};
}

const std::optional<parse_error>& proxy_reader::finish() {
  if (!error_ && !done_) error_ = parse_error{errc::incomplete, offset_};
  return error_;
}

// --- the writer ---------------------------------------------------------------------

namespace {

void put16(std::string& out, std::size_t v) {
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
  out.push_back(static_cast<char>(v & 0xFF));
}

void put_tlv(std::string& out, std::uint8_t type, std::string_view value) {
  out.push_back(static_cast<char>(type));
  put16(out, value.size());
  out.append(value);
}

}  // namespace

parse_result<std::string> write_proxy_header(const proxy_header& h) {
  const bool v4 = h.family == proxy_family::inet, v6 = h.family == proxy_family::inet6;
  const auto a4 = [](const std::string& s) { return parse::ipv4_address(s); };
  const auto a6 = [](const std::string& s) { return parse::ipv6_address(s); };
  const bool addresses = h.command == proxy_command::proxy && (v4 || v6);
  if (addresses && v4 && (!a4(h.source_address) || !a4(h.destination_address)))
    return parse_error{errc::bad_proxy_address, 0};
  if (addresses && v6 && (!a6(h.source_address) || !a6(h.destination_address)))
    return parse_error{errc::bad_proxy_address, 0};
  if (h.version == proxy_version::v1) {
    if (!addresses) return std::string("PROXY UNKNOWN\r\n");
    std::string out = v4 ? "PROXY TCP4 " : "PROXY TCP6 ";
    // Canonical text: no leading zeros (section 2.1), IPv6 compressed.
    const auto text = [&](const std::string& s) { return v4 ? ipv4_text(a4(s)->data()) : ipv6_text(a6(s)->data()); };
    out += text(h.source_address) + " " + text(h.destination_address) + " " + std::to_string(h.source_port) +
           " " + std::to_string(h.destination_port) + "\r\n";
    return out;
  }
  std::string out(reinterpret_cast<const char*>(v2_signature.data()), v2_signature.size());
  out.push_back(static_cast<char>(0x20 | (h.command == proxy_command::proxy ? 1 : 0)));
  std::string body;
  if (h.command == proxy_command::proxy) {
    out.push_back(static_cast<char>((static_cast<unsigned>(h.family) << 4) | static_cast<unsigned>(h.transport)));
    if (v4) {
      const auto s = *a4(h.source_address), d = *a4(h.destination_address);
      body.append(reinterpret_cast<const char*>(s.data()), 4).append(reinterpret_cast<const char*>(d.data()), 4);
    } else if (v6) {
      const auto s = *a6(h.source_address), d = *a6(h.destination_address);
      body.append(reinterpret_cast<const char*>(s.data()), 16).append(reinterpret_cast<const char*>(d.data()), 16);
    } else if (h.family == proxy_family::unix_socket) {
      if (h.source_address.size() > 108 || h.destination_address.size() > 108)
        return parse_error{errc::bad_proxy_address, 0};
      std::string s = h.source_address, d = h.destination_address;
      s.resize(108, '\0');
      d.resize(108, '\0');
      body += s + d;
    }
    if (v4 || v6) {
      put16(body, h.source_port);
      put16(body, h.destination_port);
    }
    const auto too_long = [](const std::optional<std::string>& v) { return v && v->size() > 65535; };
    if (too_long(h.alpn) || too_long(h.authority) || too_long(h.netns) ||
        (h.unique_id && h.unique_id->size() > 128) || (h.alpn && h.alpn->empty()))
      return parse_error{errc::bad_proxy_tlv, 0};
    if (h.alpn) put_tlv(body, pp2_alpn, *h.alpn);
    if (h.authority) put_tlv(body, pp2_authority, *h.authority);
    if (h.unique_id) put_tlv(body, pp2_unique_id, *h.unique_id);
    if (h.ssl) {
      std::string ssl;
      ssl.push_back(static_cast<char>(h.ssl->client));
      for (int shift = 24; shift >= 0; shift -= 8) ssl.push_back(static_cast<char>((h.ssl->verify >> shift) & 0xFF));
      const std::pair<std::uint8_t, const std::string*> subs[] = {
          {pp2_ssl_version, &h.ssl->version}, {pp2_ssl_cn, &h.ssl->common_name},
          {pp2_ssl_cipher, &h.ssl->cipher},   {pp2_ssl_sig_alg, &h.ssl->signature_algorithm},
          {pp2_ssl_key_alg, &h.ssl->key_algorithm}};
      for (const auto& [type, value] : subs)
        if (!value->empty()) put_tlv(ssl, type, *value);
      if (ssl.size() > 65535) return parse_error{errc::bad_proxy_tlv, 0};
      put_tlv(body, pp2_ssl, ssl);
    }
    if (h.netns) put_tlv(body, pp2_netns, *h.netns);
    for (const auto& t : h.other_tlvs) {
      if (t.value.size() > 65535 || t.type == pp2_crc32c) return parse_error{errc::bad_proxy_tlv, 0};
      put_tlv(body, t.type, t.value);
    }
  } else {
    out.push_back('\0');  // LOCAL: AF_UNSPEC, UNSPEC, no address block
  }
  if (body.size() > 65535) return parse_error{errc::bad_proxy_tlv, 0};
  put16(out, body.size());
  return out + body;
}

}  // namespace sansmtp
