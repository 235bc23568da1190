#pragma once
// Inbound media end to end, the same checks on SQLite (e2e) and on PostgreSQL (postgres): the real
// host receives a signed image webhook, the fetch_media job asks the fake Graph API for the media,
// keeps the bytes once under admin_inbox's media.dir and the conversation page shows them.
#include <cstdint>
#include <memory>
#include <string>

#include "AdminSession.hpp"
#include "FakeGraphApi.hpp"
#include "HostProcess.hpp"
#include "db/SqlDatabase.hpp"

namespace tawasul::test {

inline const std::string kMediaRoute = "/admin/messaging/whatsapp/media/";

// The PNG of tests/fixtures/media/receipt.png (160x100).
std::string receiptPng();

// What an inbound media message carries.
struct InboundMedia {
    std::string wamid;
    std::string type = "image";  // image, audio, video, document, sticker
    std::string mediaId;
    std::string mimeType = "image/png";
    std::string sha256;    // as the webhook says it (hex); empty: none
    std::string caption;
    std::string filename;  // documents
    std::int64_t secondsAgo = 0;
};
// The signed-webhook body of one inbound media message from kCustomerWaId.
std::string inboundMediaBody(const InboundMedia& media);

// A host wired to a fake Graph API (token required on every call), with admin_inbox keeping media
// in `mediaDir()` at most `maxBytes` each.
class MediaHost {
public:
    // storage: admin_inbox's media.storage ("files" or "database").
    explicit MediaHost(const std::string& databaseUrl = "", std::int64_t maxBytes = 65536, const std::string& storage = "files");
    HostProcess& host() { return *host_; }
    FakeGraphApi& fake() { return *fake_; }
    sdk::Database& db() { return *db_; }
    std::string mediaDir() const;
    // Posts the message, waits until it is processed; returns its whatsapp_messages.id.
    std::int64_t receive(const InboundMedia& media);
    // Waits until the message's whatsapp_media row has `status` ("stored", "failed"); returns
    // "status|error" as it then is.
    std::string waitForMedia(std::int64_t messageId, const std::string& status);
    std::string conversationUrl(std::int64_t messageId);
    // Regular files under the media directory (temporary ones included), for "no file" checks.
    std::size_t files() const;

private:
    std::unique_ptr<TempDir> mediaRoot_;
    std::unique_ptr<FakeGraphApi> fake_;
    std::unique_ptr<HostProcess> host_;
    std::unique_ptr<host::SqlDatabase> db_;
};

// The image is stored once (0600 in a 0700 directory, named by hash, no temporary file left), the
// page shows an <img> whose route gives the bytes to a signed-in user with the headers that keep
// it from running, refuses without a session (401) and without whatsapp.inbox.view (403); a
// redelivered webhook fetches nothing again; the same bytes under another id are kept once.
void checkImageStoredOnceAndServed(MediaHost& h);
// An expired id, a 404 download, a wrong sha256 and a body over the cap (declared, and not)
// each end failed with their reason on the page and no file; a retry needs the reply permission
// and the CSRF token, and succeeds once the fault is gone; a 500 is retried by itself.
void checkFailuresAreShownAndKeepNoFile(MediaHost& h);
// With media.storage: database, the bytes are one row per content and no file is written.
void checkImageStoredInTheDatabase(MediaHost& h);

// A stored video served in parts, as a player seeking asks for it (in either storage): Accept-Ranges
// always; bytes=A-B, bytes=A- and bytes=-N give 206 with Content-Range and only those bytes (and
// the headers of the whole answer); a start past the end gives 416 with bytes */TOTAL; a malformed
// header, another unit or several ranges give the whole 200; no session, no part (401). A document
// keeps its attachment disposition on a 206.
void checkRangeRequests(MediaHost& h);

}  // namespace tawasul::test
