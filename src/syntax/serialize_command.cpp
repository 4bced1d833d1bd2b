// Command serializer: formats with fmt, then proves the line parses back to
// the same command under the same options (one grammar decides both ways, so
// nothing the parser would refuse, e.g. CR/LF injected through a field, can
// be written). Where it refuses, it names the field: each field's place in
// the line is recorded as it is written.
#include <sansmtp/syntax/command.hpp>
#include <sansmtp/syntax/command_builder.hpp>

#include "command_internal.hpp"

#include <fmt/format.h>

#include <array>
#include <iterator>

namespace sansmtp {
namespace {

struct field_span {
  std::string_view name;
  std::size_t begin = 0, end = 0;  // offsets into the line
};

class writer {
 public:
  writer(std::string& out, std::size_t mark) : out_(out), mark_(mark) {}

  // The field that holds `offset` (its end included: a field that stops too
  // early is refused just past it); before every field, the verb.
  std::string_view field_at(std::size_t offset) const noexcept {
    std::string_view name = "verb";
    for (std::size_t i = 0; i < count_; ++i)
      if (offset >= spans_[i].begin) name = spans_[i].name;
    return name;
  }

  // Where the named field begins (0 when it was not written).
  std::size_t offset_of(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
      const auto n = spans_[i].name;  // "params" holds "params.size"
      if (name.starts_with(n) && (name.size() == n.size() || name[n.size()] == '.')) return spans_[i].begin;
    }
    return 0;
  }

  void operator()(const cmd::ehlo& c) { hello("EHLO", c.host); }
  void operator()(const cmd::helo& c) { hello("HELO", c.host); }
  void operator()(const cmd::lhlo& c) { hello("LHLO", c.host); }
  void operator()(const cmd::mail& c) {
    literal("MAIL FROM:");
    path_of("reverse_path", c.reverse_path);
    params(c.params.text);
  }
  void operator()(const cmd::rcpt& c) {
    literal("RCPT TO:");
    path_of("forward_path", c.forward_path);
    params(c.params.text);
  }
  void operator()(const cmd::data&) { literal("DATA"); }
  void operator()(const cmd::bdat& c) {
    literal("BDAT ");
    const auto begin = here();
    fmt::format_to(std::back_inserter(out_), "{}", c.size);
    mark("size", begin);
    if (c.last) field("last", " LAST");
  }
  void operator()(const cmd::rset&) { literal("RSET"); }
  void operator()(const cmd::vrfy& c) { argument("VRFY", c.argument); }
  void operator()(const cmd::expn& c) { argument("EXPN", c.argument); }
  void operator()(const cmd::help& c) { optional_argument("HELP", c.argument); }
  void operator()(const cmd::noop& c) { optional_argument("NOOP", c.argument); }
  void operator()(const cmd::quit&) { literal("QUIT"); }
  void operator()(const cmd::starttls&) { literal("STARTTLS"); }
  void operator()(const cmd::auth& c) {
    literal("AUTH ");
    field("mechanism", c.mechanism);
    if (c.initial_response) {
      literal(" ");
      field("initial_response", *c.initial_response);
    }
  }
  void operator()(const cmd::unknown& c) {
    field("verb", c.verb);
    if (c.argument) {
      literal(" ");
      field("argument", *c.argument);
    }
  }

 private:
  std::size_t here() const noexcept { return out_.size() - mark_; }
  void literal(std::string_view s) { out_.append(s); }
  void mark(std::string_view name, std::size_t begin) {
    if (count_ < spans_.size()) spans_[count_++] = {name, begin, here()};
  }
  void field(std::string_view name, std::string_view text) {
    const auto begin = here();
    out_.append(text);
    mark(name, begin);
  }
  void hello(std::string_view verb, const ehlo_host& host) {
    literal(verb);
    literal(" ");
    field("host", host.text);
  }
  void path_of(std::string_view name, const path& p) {
    const auto begin = here();
    out_ += '<';
    out_.append(p.local_part);
    if (!p.domain.empty()) {
      out_ += '@';
      out_.append(p.domain);
    }
    out_ += '>';
    mark(name, begin);
  }
  void params(std::string_view text) {
    if (text.empty()) return;
    literal(" ");
    field("params", text);
  }
  void argument(std::string_view verb, std::string_view arg) {
    literal(verb);
    literal(" ");
    field("argument", arg);
  }
  void optional_argument(std::string_view verb, const std::optional<std::string_view>& arg) {
    literal(verb);
    if (arg) argument({}, *arg);
  }

  std::string& out_;
  std::size_t mark_;
  std::array<field_span, 4> spans_{};
  std::size_t count_ = 0;
};

// The first field in which `b` (parsed back) differs from `a` (given).
struct first_difference {
  const command& parsed;

  template <class T>
  const T& back() const {
    return std::get<T>(parsed);
  }
  std::string_view operator()(const cmd::ehlo& a) const { return a.host == back<cmd::ehlo>().host ? "" : "host"; }
  std::string_view operator()(const cmd::helo& a) const { return a.host == back<cmd::helo>().host ? "" : "host"; }
  std::string_view operator()(const cmd::lhlo& a) const { return a.host == back<cmd::lhlo>().host ? "" : "host"; }
  std::string_view operator()(const cmd::mail& a) const {
    const auto& b = back<cmd::mail>();
    const auto &p = a.params, &q = b.params;
    if (!(a.reverse_path == b.reverse_path)) return "reverse_path";
    if (p.text != q.text) return "params";
    if (p.size != q.size) return "params.size";
    if (p.body != q.body) return "params.body";
    if (p.smtputf8 != q.smtputf8) return "params.smtputf8";
    if (p.requiretls != q.requiretls) return "params.requiretls";
    if (p.ret != q.ret) return "params.ret";
    if (p.envid != q.envid) return "params.envid";
    if (p.auth != q.auth) return "params.auth";
    if (p.by != q.by) return "params.by";
    if (p.mt_priority != q.mt_priority) return "params.mt_priority";
    if (p.holdfor != q.holdfor) return "params.holdfor";
    if (p.holduntil != q.holduntil) return "params.holduntil";
    return "";
  }
  std::string_view operator()(const cmd::rcpt& a) const {
    const auto& b = back<cmd::rcpt>();
    if (!(a.forward_path == b.forward_path)) return "forward_path";
    if (a.params.text != b.params.text) return "params";
    if (a.params.notify != b.params.notify) return "params.notify";
    if (a.params.orcpt != b.params.orcpt) return "params.orcpt";
    if (a.params.rrvs != b.params.rrvs) return "params.rrvs";
    return "";
  }
  std::string_view operator()(const cmd::bdat& a) const {
    const auto& b = back<cmd::bdat>();
    return a.size != b.size ? "size" : a.last != b.last ? "last" : "";
  }
  // VRFY, EXPN, HELP, NOOP: the argument is all.
  template <class T>
  requires requires(const T& t) { t.argument; }
  std::string_view operator()(const T& a) const { return a.argument == back<T>().argument ? "" : "argument"; }
  std::string_view operator()(const cmd::auth& a) const {
    const auto& b = back<cmd::auth>();
    return a.mechanism != b.mechanism ? "mechanism" : a.initial_response != b.initial_response ? "initial_response" : "";
  }
  std::string_view operator()(const cmd::unknown& a) const {
    const auto& b = back<cmd::unknown>();
    return a.verb != b.verb ? "verb" : a.argument != b.argument ? "argument" : "";
  }
  template <class T>
  requires(!requires(const T& t) { t.argument; })
  std::string_view operator()(const T&) const {  // DATA, RSET, QUIT, STARTTLS: the verb is all
    return "";
  }
};

}  // namespace

namespace detail {

// Writes `c` at the end of `out` and parses it back: the command parsed
// from `out` (views into it), or the error with the field, `out` restored.
parse_result<command, build_error> write_command(const command& c, std::string& out,
                                                 const command_options& options) {
  const auto mark = out.size();
  writer w(out, mark);
  std::visit(w, c);
  out += "\r\n";
  const std::string_view line = std::string_view(out).substr(mark);
  line_notes notes;
  auto reparsed = parse::command_line(line, options, notes);
  build_error e;
  if (!reparsed) {
    e = build_error{{reparsed.error().code, reparsed.error().offset}, w.field_at(reparsed.error().offset)};
  } else if (notes.trailing_whitespace) {
    // Tolerated on receipt (RFC 5321 §4.1.1), never sent.
    const auto at = line.size() - 2 - notes.trailing_whitespace;
    e = build_error{{errc::trailing_whitespace, at}, w.field_at(at)};
  } else if (reparsed->index() != c.index()) {
    e = build_error{{errc::inconsistent_command, 0}, "verb"};
  } else if (const auto field = std::visit(first_difference{*reparsed}, c); !field.empty()) {
    e = build_error{{errc::inconsistent_command, w.offset_of(field)}, field};
  } else {
    return std::move(reparsed).value();
  }
  out.resize(mark);
  return e;
}

}  // namespace detail

build_error serialize(const command& c, std::string& out, const command_options& options) {
  auto r = detail::write_command(c, out, options);
  return r ? build_error{} : r.error();
}

}  // namespace sansmtp
