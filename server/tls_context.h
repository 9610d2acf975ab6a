// The server side of TLS: an OpenSSL context, made once at start-up from the
// tls-* settings, shared by every TLS connection of one listener. Files are
// read only here: a missing or bad certificate stops start-up (there is no
// reload; restart to change certificates).
#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>, so it must come first (in its own block, which clang-format keeps).
#include <utility>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "server/config.h"

namespace tally::server {

// Whether TLS clients must show a certificate (tls-auth-clients).
enum class TlsClientAuth { kNo, kOptional, kYes };

// Parses tls-auth-clients (already validated by the settings table).
TlsClientAuth ParseTlsClientAuth(const std::string& value);

// A server context with tls-cert-file and tls-key-file (checked to belong
// together), offering TLS 1.2 and 1.3 only. Unless `client_auth` is kNo,
// client certificates are verified against tls-ca-cert-file, and with kYes a
// client without one is refused during the handshake. On any problem
// returns nullptr and sets `*error` to a message naming the setting, the
// file and OpenSSL's reason.
std::unique_ptr<boost::asio::ssl::context> MakeServerTlsContext(const Config& config,
                                                                TlsClientAuth client_auth,
                                                                std::string* error);

}  // namespace tally::server
