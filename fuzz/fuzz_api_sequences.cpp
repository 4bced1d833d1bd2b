// Fuzz target: API sequences, not only bytes. The fuzzer drives two
// reply_readers through feeds, moves, move-assignments, reset() and
// finish() (the moved-from reader was the crash a byte-level campaign could
// not reach), and an output_queue through copied and referenced appends
// and partial consumes. Builds as a libFuzzer target and as a corpus replay
// (see fuzz/README.md). Any violated invariant prints the input and aborts.
//
// Input: pairs of octets, (operation, argument); the bytes fed and appended
// are taken from the input itself, after the operations.
//
// Invariants:
//  1. reply_reader: each reader's replies, error, consumed() and in_reply()
//     equal those of a reader that received the same feeds and finishes in
//     the same order without ever being moved; a moved-from reader is
//     empty and usable (it behaves as a new one); reset() makes a reader
//     new; nothing crashes or leaks (ASan).
//  2. output_queue: what runs() and front() hand out, and size(), always
//     equal the model: the concatenation of what was appended minus what was
//     consumed; borrowed() counts exactly the referenced octets unsent.
#include <sansmtp/codec/output_queue.hpp>
#include <sansmtp/codec/reply_reader.hpp>
#include <sansmtp/syntax/reply.hpp>

#include "fuzz_check.hpp"
#include "work_budget.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace sansmtp;

namespace {

// One operation in a reader's history: bytes fed, or finish().
struct feed_op {
  bool finish = false;
  std::string bytes;
};

struct reader_slot {
  reply_reader reader;
  std::vector<feed_op> history;  // since it was new
  std::string log;               // what it produced
};

std::string render(const reply& r) {
  std::string out = std::to_string(r.code) + "@" + std::to_string(r.offset) + "+" + std::to_string(r.size);
  for (const auto line : r.lines) {
    out += '|';
    out += line;
  }
  return out + "\n";
}

// Applies one operation to a reader, appending what it produced to `log`.
void apply(reply_reader& reader, const feed_op& op, std::string& log) {
  if (op.finish) {
    const auto& e = reader.finish();
    log += e ? "finish " + std::string(e->name()) + "@" + std::to_string(e->offset) + "\n" : "finish ok\n";
    return;
  }
  std::string_view in = op.bytes;
  for (;;) {
    const auto step = reader.next(in);
    in.remove_prefix(step.consumed);
    if (step.status == reply_status::reply) {
      log += render(reader.current());
      continue;
    }
    if (step.status == reply_status::error) {
      log += "error " + std::string(reader.error()->name()) + "@" + std::to_string(reader.error()->offset) + "\n";
    }
    break;
  }
}

std::string state_of(const reply_reader& r) {
  return "consumed=" + std::to_string(r.consumed()) + " in_reply=" + std::to_string(r.in_reply()) +
         " error=" + (r.error() ? std::string(r.error()->name()) : "none");
}

void check_against_replay(const reader_slot& slot, const reply_reader_options& options, int which) {
  reply_reader fresh(options);
  std::string log;
  for (const auto& op : slot.history) apply(fresh, op, log);
  FUZZ_CHECK(log == slot.log, "reader " + std::to_string(which) + " differs from its replay:\n" + slot.log +
                                  "---\n" + log);
  FUZZ_CHECK(state_of(fresh) == state_of(slot.reader), state_of(slot.reader) + " vs " + state_of(fresh));
}

void check_queue(const output_queue& q, const std::string& model, std::size_t borrowed) {
  std::string all;
  for (const auto run : q.runs()) {
    FUZZ_CHECK(!run.empty(), "an empty run");
    all.append(run.data(), run.size());
  }
  FUZZ_CHECK(all == model, "runs: \"" + fuzz::escape(all) + "\" model \"" + fuzz::escape(model) + "\"");
  FUZZ_CHECK(q.size() == model.size(), "size");
  FUZZ_CHECK(q.borrowed() == borrowed, "borrowed");
  const auto f = q.front();
  FUZZ_CHECK(std::string_view(f.data(), f.size()) == std::string_view(model).substr(0, f.size()), "front");
  FUZZ_CHECK(f.empty() == model.empty(), "front empty");
}

}  // namespace

// The work budget: at most this many ns of CPU time per input octet, past
// a fixed part (fuzz/work_budget.hpp; calibration in fuzz/README.md). The
// fixed part is this target's own, 100 ms: a few hundred octets of
// operations feed up to 64 octets each, so small inputs fan out.
static constexpr sansmtp::fuzz::work_budget budget{"fuzz_api_sequences", 20000, 100e6};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sansmtp::fuzz::input_scope scope(data, size, budget);
  if (size < 2) return 0;
  // The first octet: how many operation pairs; the rest after them is the pool.
  const std::size_t ops = std::min<std::size_t>(data[0], (size - 1) / 2);
  const std::string_view pool(reinterpret_cast<const char*>(data) + 1 + 2 * ops, size - 1 - 2 * ops);
  std::size_t pool_at = 0;
  const auto take = [&](std::size_t n) {
    if (pool.empty()) return std::string_view();
    if (pool_at >= pool.size()) pool_at = 0;
    const auto out = pool.substr(pool_at, n);
    pool_at += out.size();
    return out;
  };

  reply_reader_options options;
  options.max_line_length = 64;  // small, so that limits are reached too
  options.max_lines = 6;
  std::array<reader_slot, 2> slots{reader_slot{reply_reader(options), {}, {}},
                                   reader_slot{reply_reader(options), {}, {}}};

  output_queue queue;
  std::string model;
  std::size_t borrowed = 0;

  for (std::size_t i = 0; i < ops; ++i) {
    const std::uint8_t op = data[1 + 2 * i];
    const std::uint8_t arg = data[2 + 2 * i];
    auto& a = slots[op & 1];
    auto& b = slots[(op & 1) ^ 1];
    switch ((op >> 1) % 10) {
      case 0:
      case 1: {  // feed a chunk
        feed_op f{false, std::string(take(1 + arg % 64))};
        apply(a.reader, f, a.log);
        a.history.push_back(std::move(f));
        break;
      }
      case 2:  // finish()
        apply(a.reader, {true, {}}, a.log);
        a.history.push_back({true, {}});
        break;
      case 3:  // move-assign: a takes b's state, b is left new
        a.reader = std::move(b.reader);
        a.history = std::move(b.history);
        a.log = std::move(b.log);
        b.history.clear();
        b.log.clear();
        break;
      case 4: {  // move-construct and back
        reply_reader moved(std::move(a.reader));
        a.reader = std::move(moved);
        break;
      }
      case 5:  // reset()
        a.reader.reset();
        a.history.clear();
        a.log.clear();
        break;
      case 6: {  // self-move-assignment leaves the reader as it was
        auto& self = a.reader;
        a.reader = std::move(self);
        break;
      }
      case 7: {  // output_queue: copy in
        const auto bytes = take(arg % 40);
        queue.append(bytes);
        model.append(bytes);
        break;
      }
      case 8: {  // output_queue: by reference (the pool outlives the queue)
        const auto bytes = take(arg % 40);
        queue.append_view(bytes);
        model.append(bytes);
        borrowed += bytes.size();
        break;
      }
      case 9: {  // output_queue: consume
        const std::size_t n = arg % 2 ? arg : std::size_t{arg} * 97;  // small and large
        // The referenced octets among the first n unsent: runs that point
        // into the pool are the referenced ones (copies live in the queue).
        const std::size_t left = std::min(n, model.size());
        std::size_t ref_consumed = 0, at = 0;
        for (const auto run : queue.runs()) {
          const std::size_t in_run = std::min(run.size(), left - std::min(left, at));
          const bool by_reference = run.data() >= pool.data() && run.data() < pool.data() + pool.size();
          if (by_reference) ref_consumed += in_run;
          at += run.size();
        }
        queue.consume(n);
        model.erase(0, std::min(n, model.size()));
        borrowed -= ref_consumed;
        break;
      }
    }
    check_against_replay(slots[0], options, 0);
    check_against_replay(slots[1], options, 1);
    check_queue(queue, model, borrowed);
  }
  return 0;
}
