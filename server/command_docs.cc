#include "server/command_docs.h"

#include <algorithm>
#include <cctype>

#include "server/text.h"

namespace tally::server {
namespace {

class ArgParser {
 public:
  explicit ArgParser(std::string_view text) : text_(text) {}

  std::optional<std::vector<CommandArg>> ParseAll() {
    auto out = ParseSequence();
    if (failed_ || pos_ != text_.size()) return std::nullopt;
    return out;
  }

 private:
  static bool IsWordChar(char c) {
    return c != ' ' && c != '[' && c != ']' && c != '(' && c != ')' && c != '|';
  }

  // Items up to a closing ']' or ')' or '|' (not consumed) or the end.
  std::vector<CommandArg> ParseSequence() {
    std::vector<CommandArg> items;
    while (pos_ < text_.size()) {
      if (text_[pos_] == ' ') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == ']' || text_[pos_] == ')' || text_[pos_] == '|') break;
      auto item = ParseItem();
      if (!item) {
        failed_ = true;
        break;
      }
      items.push_back(std::move(*item));
    }
    return items;
  }

  bool Consume(std::string_view s) {
    if (text_.substr(pos_, s.size()) != s) return false;
    pos_ += s.size();
    return true;
  }

  std::optional<CommandArg> ParseItem() {
    CommandArg arg;
    if (Consume("[")) {
      auto inner = ParseSequence();
      if (!Consume("]") || inner.size() != 1) return std::nullopt;
      arg = std::move(inner[0]);
      arg.optional = true;
    } else {
      size_t start = pos_;
      while (pos_ < text_.size() && IsWordChar(text_[pos_])) ++pos_;
      std::string_view word = text_.substr(start, pos_ - start);
      if (word.empty()) return std::nullopt;
      if (size_t eq = word.find('='); eq != std::string_view::npos) {
        arg.token = std::string(word.substr(0, eq));
        word.remove_prefix(eq + 1);
      }
      bool repeats = word.ends_with("...");
      if (repeats) word.remove_suffix(3);
      if (pos_ < text_.size() && text_[pos_] == '(') {
        ++pos_;
        arg.name = std::string(word);
        arg.type = "block";
        for (;;) {
          auto alternative = ParseSequence();
          if (alternative.size() == 1 && text_.substr(pos_, 1) == "|") arg.type = "oneof";
          if (arg.type == "oneof" && alternative.size() != 1) return std::nullopt;
          for (auto& child : alternative) arg.children.push_back(std::move(child));
          if (!Consume("|")) break;
          arg.type = "oneof";
        }
        if (!Consume(")")) return std::nullopt;
      } else if (arg.token.empty() && IsToken(word)) {
        arg.token = std::string(word);
        arg.name = ToLower(word);
        arg.type = "pure-token";
      } else {
        SetNameAndType(word, &arg);
      }
      arg.multiple = repeats;
    }
    if (Consume("...")) arg.multiple = true;
    return arg;
  }

  static bool IsToken(std::string_view word) {
    return std::all_of(word.begin(), word.end(),
                       [](char c) { return (c >= 'A' && c <= 'Z') || c == '-' || c == '_'; });
  }

  // "name:type" when the suffix is a type; "ip:port" stays a name.
  static void SetNameAndType(std::string_view word, CommandArg* arg) {
    static constexpr std::string_view kTypes[] = {"key",    "string",  "integer",
                                                  "double", "pattern", "unix-time"};
    if (size_t colon = word.rfind(':'); colon != std::string_view::npos) {
      std::string_view type = word.substr(colon + 1);
      if (std::find(std::begin(kTypes), std::end(kTypes), type) != std::end(kTypes)) {
        arg->name = std::string(word.substr(0, colon));
        arg->type = std::string(type);
        return;
      }
    }
    arg->name = std::string(word);
    arg->type = word == "key" ? "key" : "string";
  }

  std::string_view text_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace

std::optional<std::vector<CommandArg>> ParseCommandArgs(std::string_view text) {
  return ArgParser(text).ParseAll();
}

}  // namespace tally::server
