#include "server/client_registry.h"

#include <time.h>

#include "server/command_table.h"

namespace tally::server {

int64_t MonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::string ClientRecord::name() const {
  std::lock_guard lock(mu_);
  return name_;
}

std::string ClientRecord::lib_name() const {
  std::lock_guard lock(mu_);
  return lib_name_;
}

std::string ClientRecord::lib_ver() const {
  std::lock_guard lock(mu_);
  return lib_ver_;
}

std::string ClientRecord::user() const {
  std::lock_guard lock(mu_);
  return user_;
}

void ClientRecord::set_user(std::string value) {
  std::lock_guard lock(mu_);
  user_ = std::move(value);
}

void ClientRecord::set_name(std::string name) {
  std::lock_guard lock(mu_);
  name_ = std::move(name);
}

void ClientRecord::set_lib_name(std::string value) {
  std::lock_guard lock(mu_);
  lib_name_ = std::move(value);
}

void ClientRecord::set_lib_ver(std::string value) {
  std::lock_guard lock(mu_);
  lib_ver_ = std::move(value);
}

std::string ClientRecord::Describe(int64_t now_ms) const {
  std::string flags;
  const int queued = multi_queued.load(std::memory_order_relaxed);
  if (queued >= 0) flags += 'x';
  if (no_evict.load(std::memory_order_relaxed)) flags += 'e';
  if (no_touch.load(std::memory_order_relaxed)) flags += 'T';
  if (flags.empty()) flags = "N";
  const CommandSpec* cmd = last_command.load(std::memory_order_relaxed);
  std::string name, lib_name, lib_ver, user;
  {
    std::lock_guard lock(mu_);
    name = name_;
    lib_name = lib_name_;
    lib_ver = lib_ver_;
    user = user_;
  }
  // Buffer and memory fields are Redis internals Tally does not have; they
  // stay in the line, as 0, because parsers of CLIENT LIST expect them.
  std::string line;
  line.reserve(320);
  line += "id=" + std::to_string(id);
  line += " addr=" + addr;
  line += " laddr=" + laddr;
  line += " fd=" + std::to_string(fd);
  line += " name=" + name;
  line += " age=" + std::to_string((now_ms - created_ms) / 1000);
  line +=
      " idle=" + std::to_string((now_ms - last_active_ms.load(std::memory_order_relaxed)) / 1000);
  line += " flags=" + flags;
  line += " db=0 sub=0 psub=0 ssub=0";
  line += " multi=" + std::to_string(queued);
  line += " qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0";
  line += " events=r";
  line += " cmd=";
  line += cmd != nullptr ? std::string(cmd->name) : std::string("NULL");
  line += " user=" + user;
  line += " redir=-1";
  line += " resp=" + std::to_string(resp.load(std::memory_order_relaxed));
  line += " lib-name=" + lib_name;
  line += " lib-ver=" + lib_ver;
  line += '\n';
  return line;
}

void ClientRegistry::Add(std::shared_ptr<ClientRecord> record) {
  std::lock_guard lock(mu_);
  clients_[record->id] = std::move(record);
}

void ClientRegistry::Remove(uint64_t id) {
  std::lock_guard lock(mu_);
  clients_.erase(id);
}

std::vector<std::shared_ptr<ClientRecord>> ClientRegistry::Snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<ClientRecord>> out;
  out.reserve(clients_.size());
  for (const auto& [id, record] : clients_) out.push_back(record);
  return out;
}

}  // namespace tally::server
