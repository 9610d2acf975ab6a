#include "server/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace tally::server {
namespace {

namespace ssl = boost::asio::ssl;

// OpenSSL's reason for `error`, e.g. "no start line" for a file that is not
// PEM, rather than the generic errors queued after it.
std::string OpenSslReason(const boost::system::error_code& error) {
  ERR_clear_error();
  if (error.category() == boost::asio::error::get_ssl_category()) {
    if (const char* reason = ERR_reason_error_string(static_cast<unsigned long>(error.value()))) {
      return reason;
    }
  }
  return error.message();
}

// A file the settings name must exist and be readable: say so plainly rather
// than through OpenSSL's "system lib" errors.
bool Readable(const char* setting, const std::string& path, std::string* error) {
  if (path.empty()) {
    *error = std::string(setting) + " is not set";
    return false;
  }
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + std::string(setting) + " '" + path + "': " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace

TlsClientAuth ParseTlsClientAuth(const std::string& value) {
  if (value == "no") return TlsClientAuth::kNo;
  if (value == "optional") return TlsClientAuth::kOptional;
  return TlsClientAuth::kYes;
}

std::unique_ptr<ssl::context> MakeServerTlsContext(const Config& config, TlsClientAuth client_auth,
                                                   std::string* error) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  // TLS 1.2 and 1.3, Redis's default tls-protocols.
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  SSL_CTX* handle = context->native_handle();
  SSL_CTX_set_options(handle, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
  // A client that closes without close_notify has simply gone away: report
  // end of stream, not an error.
  SSL_CTX_set_options(handle, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
  // Resuming a session of a verified client needs a session id context.
  static const unsigned char kSessionContext[] = "tally";
  SSL_CTX_set_session_id_context(handle, kSessionContext, sizeof(kSessionContext) - 1);

  boost::system::error_code ec;
  if (!Readable("tls-cert-file", config.tls_cert_file, error)) return nullptr;
  context->use_certificate_chain_file(config.tls_cert_file, ec);
  if (ec) {
    *error = "cannot load tls-cert-file '" + config.tls_cert_file + "': " + OpenSslReason(ec);
    return nullptr;
  }
  if (!Readable("tls-key-file", config.tls_key_file, error)) return nullptr;
  context->use_private_key_file(config.tls_key_file, ssl::context::pem, ec);
  if (ec.category() == boost::asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    ec = {};  // said below
  }
  if (ec) {
    *error = "cannot load tls-key-file '" + config.tls_key_file + "': " + OpenSslReason(ec);
    return nullptr;
  }
  if (SSL_CTX_check_private_key(handle) != 1) {
    ERR_clear_error();
    *error = "tls-key-file '" + config.tls_key_file + "' is not the key of tls-cert-file '" +
             config.tls_cert_file + "'";
    return nullptr;
  }

  if (client_auth == TlsClientAuth::kNo) {
    context->set_verify_mode(ssl::verify_none);
    return context;
  }
  if (config.tls_ca_cert_file.empty()) {
    *error = "tls-ca-cert-file must be set to verify client certificates (tls-auth-clients " +
             config.tls_auth_clients + "); set tls-auth-clients no to accept clients without one";
    return nullptr;
  }
  if (!Readable("tls-ca-cert-file", config.tls_ca_cert_file, error)) return nullptr;
  context->load_verify_file(config.tls_ca_cert_file, ec);
  if (ec) {
    *error = "cannot load tls-ca-cert-file '" + config.tls_ca_cert_file + "': " + OpenSslReason(ec);
    return nullptr;
  }
  // Tell clients which CAs are accepted, so one with several certificates
  // can pick the right one.
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.tls_ca_cert_file.c_str())) {
    SSL_CTX_set_client_CA_list(handle, names);
  }
  ERR_clear_error();
  context->set_verify_mode(client_auth == TlsClientAuth::kYes
                               ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                               : ssl::verify_peer);
  return context;
}

}  // namespace tally::server
