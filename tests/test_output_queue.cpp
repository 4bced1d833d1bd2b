// output_queue: the session output, as runs for writev (copied or by reference).
#include <sansmtp/codec/output_queue.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace sansmtp;

namespace {

std::string joined(const output_queue& q) {
  std::string out;
  for (const auto run : q.runs()) out.append(run.data(), run.size());
  return out;
}

// Writes the queue out `step` bytes at a time through front(), as a write()
// loop would.
std::string written_by_front(output_queue& q, std::size_t step) {
  std::string out;
  while (!q.empty()) {
    const auto f = q.front();
    REQUIRE_FALSE(f.empty());
    const std::size_t n = std::min(step, f.size());
    out.append(f.data(), n);
    q.consume(n);
  }
  CHECK(q.front().empty());
  return out;
}

}  // namespace

TEST_CASE("output_queue: copies coalesce, views are held, runs keep the order") {
  const std::string body = "Subject: x\r\n\r\nhello\r\n";
  output_queue q;
  q.append("MAIL FROM:<a@b>\r\n");
  q.append("DATA\r\n");
  q.append_view(std::string_view(body).substr(0, 10));
  q.append_view(std::string_view(body).substr(10));  // the next bytes of the same memory: one run
  q.append_with([](std::string& o) {
    o += ".\r\n";
    return 0;
  });
  const auto runs = q.runs();
  REQUIRE(runs.size() == 3);
  CHECK(std::string_view(runs[0].data(), runs[0].size()) == "MAIL FROM:<a@b>\r\nDATA\r\n");
  CHECK(runs[1].data() == body.data());  // not copied
  CHECK(runs[1].size() == body.size());
  CHECK(q.size() == 23 + body.size() + 3);
  CHECK(q.borrowed() == body.size());
  CHECK(joined(q) == "MAIL FROM:<a@b>\r\nDATA\r\n" + body + ".\r\n");
}

TEST_CASE("output_queue: partial writes at every size, across runs") {
  const std::string body = "0123456789abcdef";
  for (std::size_t step = 1; step <= 40; ++step) {
    output_queue q;
    q.append("AB");
    q.append_view(body);
    q.append("CD");
    q.append_view(std::string_view(body).substr(3, 4));
    const std::string want = "AB" + body + "CD3456";
    CHECK(written_by_front(q, step) == want);
    CHECK(q.size() == 0);
    CHECK(q.borrowed() == 0);
  }
}

TEST_CASE("output_queue: consume() past the end is clamped, and the queue is reusable") {
  output_queue q;
  q.append("abc");
  q.consume(100);
  CHECK(q.empty());
  CHECK(q.runs().empty());
  q.append("xy");
  CHECK(joined(q) == "xy");
}

TEST_CASE("output_queue: a queue that never empties stays bounded and in order") {
  // Append 1 KiB and write 1 KiB minus one byte, again and again: the queue
  // never drains, so only the reclaiming keeps it small.
  const std::string block(1024, 'x');
  output_queue q;
  std::string expect_tail;
  std::uint64_t appended = 0, written = 0;
  std::string view_storage(512, 'v');
  for (int i = 0; i < 2000; ++i) {
    q.append(block);
    q.append_view(view_storage);
    appended += block.size() + view_storage.size();
    std::size_t budget = block.size() + view_storage.size() - 1;
    while (budget > 0 && !q.empty()) {
      const auto f = q.front();
      const std::size_t n = std::min(budget, f.size());
      q.consume(n);
      written += n;
      budget -= n;
    }
  }
  CHECK(q.size() == appended - written);
  CHECK(q.size() == 2000);  // one byte left behind per round
  // What is left is the newest bytes, in order: the last 2000 of the stream.
  std::string stream_tail;
  for (int i = 0; i < 2; ++i) stream_tail += block + view_storage;
  CHECK(joined(q) == stream_tail.substr(stream_tail.size() - 2000));
  CHECK(q.runs().size() <= 4);  // only the unsent runs are handed out
}

TEST_CASE("output_queue: runs(n) hands out the first n unsent runs, the first one from where writing stopped") {
  output_queue q;
  static const std::string body = "0123456789";
  for (int i = 0; i < 100; ++i) {  // 200 runs: a referenced line, a copied CRLF
    q.append_view(std::string_view(body).substr(0, 1 + i % 9));
    q.append("\r\n");
  }
  CHECK(q.runs().size() == 200);
  CHECK(q.runs(64).size() == 64);
  CHECK(q.runs(0).empty());
  q.consume(1);  // within the first run ("0")? it has one octet: the run is done
  auto first = q.runs(3);
  REQUIRE(first.size() == 3);
  CHECK(std::string(first[0].data(), first[0].size()) == "\r\n");
  q.consume(1);  // half the CRLF
  first = q.runs(2);
  REQUIRE(first.size() == 2);
  CHECK(std::string(first[0].data(), first[0].size()) == "\n");
  CHECK(std::string(first[1].data(), first[1].size()) == "01");
  // Taking n runs at a time and writing them all gives the whole stream in order.
  std::string out = "0\r";
  while (!q.empty()) {
    std::size_t n = 0;
    for (const auto run : q.runs(7)) {
      out.append(run.data(), run.size());
      n += run.size();
    }
    q.consume(n);
  }
  std::string want;
  for (int i = 0; i < 100; ++i) want += body.substr(0, 1 + i % 9) + "\r\n";
  CHECK(out == want);
}
