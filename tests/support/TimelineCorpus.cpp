#include "TimelineCorpus.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <Poco/Data/Session.h>

#include "WebhookSupport.hpp"
#include "whatsapp/MetaPayloads.hpp"

namespace tawasul::test {
namespace {

const char* const kNumber = "106540352242922";  // the fixtures' business number

std::string digits(const char* prefix, int width, int n) {
    char text[32];
    std::snprintf(text, sizeof text, "%s%0*d", prefix, width, n);
    return text;
}

std::string newSender(int i) { return digits("21366", 7, i); }     // 213 66x xx xx xx: a new contact each
std::string repeatSender(int k) { return digits("21355", 7, k); }  // 20 people who write again and again

std::string envelope(const std::string& value) {
    return std::string(R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"213550000001","phone_number_id":")") +
           kNumber + R"("},)" + value + "}}]}]}";
}

std::string textMessage(const std::string& from, const std::string& wamid, long long timestamp, const std::string& text) {
    return R"({"from":")" + from + R"(","id":")" + wamid + R"(","timestamp":")" + std::to_string(timestamp) +
           R"(","type":"text","text":{"body":")" + host::metaJsonEscape(text) + R"("}})";
}

std::string contact(const std::string& waId, const std::string& name) {
    return R"({"profile":{"name":")" + host::metaJsonEscape(name) + R"("},"wa_id":")" + waId + R"("})";
}

std::string status(const std::string& wamid, const std::string& word, long long timestamp, const std::string& errors = "") {
    return R"({"id":")" + wamid + R"(","status":")" + word + R"(","timestamp":")" + std::to_string(timestamp) +
           R"(","recipient_id":"213555123456")" + (errors.empty() ? "" : R"(,"errors":)" + errors) + "}";
}

std::string statusesBody(const std::vector<std::string>& items) {
    std::string list;
    for (const std::string& item : items) list += (list.empty() ? "" : ",") + item;
    return envelope(R"("statuses":[)" + list + "]");
}

std::string textFor(int i) {
    if (i % 11 == 0) return "Bonjour, nous sommes une société, un devis svp";
    if (i % 13 == 0) return "السلام عليكم، نحن شركة ونريد تكوين لموظفينا";
    if (i % 5 == 0) return "Je voudrais m'inscrire à la formation";
    return "message " + std::to_string(i);
}

}  // namespace

std::vector<std::string> timelineCorpus() {
    std::vector<std::string> bodies;
    for (const std::string& name : fixtureNames()) bodies.push_back(fixture(name));
    // Meta delivers again: the whole fixture set a second time.
    for (const std::string& name : fixtureNames()) bodies.push_back(fixture(name));

    std::vector<std::string> later;  // redeliveries a few bodies after their first delivery
    for (int i = 0; i < 240; ++i) {
        const bool repeat = i % 3 == 0;
        const std::string from = repeat ? repeatSender(i % 20) : newSender(i);
        // A repeat sender changes their profile name now and then.
        const std::string name = repeat ? "Repeat " + std::to_string(i % 20) + (i % 2 ? "" : " bis") : "Sender " + std::to_string(i);
        // Mostly in order, every 17th an older message arriving late.
        const long long timestamp = 1764100000 + i - (i % 17 == 0 ? 50 : 0);
        const std::string body = envelope(R"("contacts":[)" + contact(from, name) + R"(],"messages":[)" +
                                          textMessage(from, "wamid.C" + std::to_string(i), timestamp, textFor(i)) + "]");
        bodies.push_back(body);
        if (i % 4 == 1) bodies.push_back(body);  // at once: likely in the same batch
        if (i % 4 == 0) later.push_back(body);
        if (later.size() == 5) {
            bodies.insert(bodies.end(), later.begin(), later.end());
            later.clear();
        }
        if (i % 30 == 7) {
            // Statuses of messages the host never sent (yet): kept until the message appears.
            bodies.push_back(statusesBody({status("wamid.LATER" + std::to_string(i), "sent", 1764100000 + i),
                                           status("wamid.LATER" + std::to_string(i), "delivered", 1764100001 + i)}));
        }
    }
    bodies.insert(bodies.end(), later.begin(), later.end());

    // Statuses of the seeded outbound messages wamid.OUTG0..7, in every order.
    const std::string failed = R"([{"code":131026,"title":"Message undeliverable","error_data":{"details":"Receiver is incapable"}}])";
    const auto g = [](int k) { return "wamid.OUTG" + std::to_string(k); };
    bodies.push_back(statusesBody({status(g(0), "sent", 1764100100)}));
    bodies.push_back(statusesBody({status(g(0), "delivered", 1764100101)}));
    bodies.push_back(statusesBody({status(g(0), "read", 1764100102)}));
    bodies.push_back(statusesBody({status(g(1), "read", 1764100112)}));
    bodies.push_back(statusesBody({status(g(1), "delivered", 1764100111)}));
    bodies.push_back(statusesBody({status(g(1), "sent", 1764100110)}));
    bodies.push_back(statusesBody({status(g(2), "delivered", 1764100121)}));
    bodies.push_back(statusesBody({status(g(2), "failed", 1764100122, failed)}));  // failed after delivered: recorded
    bodies.push_back(statusesBody({status(g(3), "read", 1764100131)}));
    bodies.push_back(statusesBody({status(g(3), "failed", 1764100132, failed)}));  // after read: the status stays read
    bodies.push_back(statusesBody({status(g(4), "failed", 1764100141, failed)}));
    bodies.push_back(statusesBody({status(g(4), "delivered", 1764100142)}));  // nothing moves a failed message
    bodies.push_back(statusesBody({status(g(5), "sent", 1764100150)}));
    bodies.push_back(statusesBody({status(g(5), "sent", 1764100150)}));  // redelivered status
    bodies.push_back(statusesBody({status(g(6), "delivered", 1764100161), status(g(6), "sent", 1764100160)}));
    bodies.push_back(statusesBody({status(g(7), "sent", 1764100170), status(g(7), "delivered", 1764100171),
                                   status(g(7), "read", 1764100172), status(g(7), "read", 1764100172)}));

    // One POST with many items: two new senders, one of them twice, a wamid twice, a status.
    bodies.push_back(envelope(
        R"("contacts":[)" + contact("213770000001", "Multi One") + "," + contact("213770000002", "Multi Two") +
        R"(],"messages":[)" + textMessage("213770000001", "wamid.M1", 1764100200, "premier") + "," +
        textMessage("213770000002", "wamid.M2", 1764100201, "un devis pour nos employés") + "," +
        textMessage("213770000001", "wamid.M3", 1764100202, "second") + "," +
        textMessage("213770000001", "wamid.M1", 1764100200, "premier") + R"(],"statuses":[)" +
        status("wamid.OUTG7", "delivered", 1764100173) + "]"));
    // A BSUID-only sender, then the same person with their phone as well.
    bodies.push_back(envelope(
        R"("contacts":[{"profile":{"name":"Nour","username":"nour.dz"},"user_id":"DZ.1349000001"}],"messages":[{"from_user_id":"DZ.1349000001","id":"wamid.U1","timestamp":"1764100300","type":"text","text":{"body":"inscription"}}])"));
    bodies.push_back(envelope(
        R"("contacts":[{"profile":{"name":"Nour B"},"wa_id":"213770000009","user_id":"DZ.1349000001"}],"messages":[{"from":"213770000009","from_user_id":"DZ.1349000001","id":"wamid.U2","timestamp":"1764100301","type":"text","text":{"body":"devis"}}])"));
    // The contact whose conversation was resolved writes again: it is reopened.
    bodies.push_back(envelope(R"("contacts":[)" + contact("213555000777", "Resolved") + R"(],"messages":[)" +
                              textMessage("213555000777", "wamid.R1", 1764100400, "encore une question") + "]"));
    // Errors Meta reports: for the whole notification, in a message, and a message with nobody to attach it to.
    bodies.push_back(envelope(R"("errors":[{"code":131000,"title":"Something went wrong","message":"Something went wrong","error_data":{"details":"retry later"}}])"));
    bodies.push_back(envelope(
        R"("contacts":[)" + contact("213770000003", "Err") +
        R"(],"messages":[{"from":"213770000003","id":"wamid.E1","timestamp":"1764100500","type":"unsupported","errors":[{"code":131051,"title":"Message type unknown","message":"Message type unknown","error_data":{"details":"Message type is currently not supported."}}]}])"));
    bodies.push_back(envelope(
        R"("messages":[{"id":"wamid.E2","timestamp":"1764100501","type":"text","text":{"body":"nobody"},"errors":[{"code":1,"title":"orphan"}]}])"));
    // A message without a timestamp would take the host's clock: every message here has one.
    // Not WhatsApp notifications: each fails its job, visibly, without stopping the others.
    bodies.push_back(R"({"object":"page","entry":[]})");
    bodies.push_back("this is not JSON");
    // The whole generated tail once more, as Meta's retries after an outage would.
    const std::size_t fixtures = fixtureNames().size() * 2;
    const std::vector<std::string> tail(bodies.begin() + static_cast<long>(fixtures) + 300, bodies.end());
    bodies.insert(bodies.end(), tail.begin(), tail.end());
    return bodies;
}

void seedTimelineCorpus(sdk::Database& db) {
    Poco::Data::Session session = db.session();
    // Platform records: some new senders are registered learners (national and international
    // forms), one is enrolled, one is an organization (its leads carry the organization's id).
    for (int i = 2; i < 240; i += 6) {
        const std::string national = "0" + newSender(i).substr(3);
        session << "INSERT INTO registrations (full_name, phone, programme, created_at) VALUES ('Learner " + std::to_string(i) +
                       "', '" + (i % 12 == 2 ? national : "+" + newSender(i)) + "', 'Programme', 1)",
            Poco::Data::Keywords::now;
    }
    session << "INSERT INTO enrollments (full_name, phone, programme, created_at) VALUES ('Enrolled 3', '" + repeatSender(3) +
                   "', 'Programme', 1)",
        Poco::Data::Keywords::now;
    session << "INSERT INTO organizations (name, phone, created_at) VALUES ('SARL Corpus', '0" + newSender(22).substr(3) + "', 1)",
        Poco::Data::Keywords::now;
    session << "INSERT INTO organizations (name, phone, created_at) VALUES ('Atlas', '0550998877', 1)", Poco::Data::Keywords::now;
    // The host's own side: a contact with outbound messages the statuses refer to ...
    session << std::string("INSERT INTO whatsapp_contacts (phone_number_id, wa_id, phone_e164, profile_name, created_at, updated_at) "
                           "VALUES ('") + kNumber + "', '213555123456', '+213555123456', 'Seeded', 1, 1)",
        Poco::Data::Keywords::now;
    session << "INSERT INTO whatsapp_conversations (contact_id, status, last_message_at, unread_count, created_at, updated_at) "
               "SELECT id, 'open', 1764000000000, 0, 1, 1 FROM whatsapp_contacts WHERE wa_id = '213555123456'",
        Poco::Data::Keywords::now;
    std::vector<std::string> wamids{"wamid.OUT0001", "wamid.OUT0002"};
    for (int k = 0; k < 8; ++k) wamids.push_back("wamid.OUTG" + std::to_string(k));
    for (const std::string& wamid : wamids)
        session << "INSERT INTO whatsapp_messages (conversation_id, direction, wa_message_id, type, body, status, provider, "
                   "created_at, updated_at) SELECT c.id, 'out', '" + wamid + "', 'text', 'sent by the host', 'queued', 'cloud_api', "
                   "1764000000000, 1764000000000 FROM whatsapp_conversations c JOIN whatsapp_contacts ct ON ct.id = c.contact_id "
                   "WHERE ct.wa_id = '213555123456'",
            Poco::Data::Keywords::now;
    // ... and a contact whose only conversation an agent resolved.
    session << std::string("INSERT INTO whatsapp_contacts (phone_number_id, wa_id, phone_e164, profile_name, created_at, updated_at) "
                           "VALUES ('") + kNumber + "', '213555000777', '+213555000777', 'Resolved', 1, 1)",
        Poco::Data::Keywords::now;
    session << "INSERT INTO whatsapp_conversations (contact_id, status, last_message_at, unread_count, created_at, updated_at, resolved_at) "
               "SELECT id, 'resolved', 1764000000000, 0, 1, 1, 1764000000001 FROM whatsapp_contacts WHERE wa_id = '213555000777'",
        Poco::Data::Keywords::now;
}

std::string timelineDump(sdk::Database& db) {
    const std::vector<std::pair<std::string, std::string>> sections{
        {"contacts", "SELECT phone_number_id, wa_id, user_id, phone_e164, profile_name, matched_type, matched_id FROM whatsapp_contacts"},
        {"conversations",
         "SELECT ct.phone_number_id, ct.wa_id, ct.user_id, c.status, c.assigned_user_id, l.phone, l.notes, c.intent, c.last_inbound_at, "
         "c.last_message_at, c.unread_count, c.resolved_at FROM whatsapp_conversations c JOIN whatsapp_contacts ct ON ct.id = c.contact_id "
         "LEFT JOIN b2b_leads l ON l.id = c.b2b_lead_id"},
        {"messages",
         "SELECT m.wa_message_id, m.direction, ct.wa_id, ct.user_id, m.type, m.body, m.payload, m.status, m.error_code, m.error_title, "
         "m.error_details, m.context_wa_message_id, m.media_id, m.media_mime_type, m.webhook_event_id, m.created_at, m.sent_at, "
         "m.delivered_at, m.read_at, m.failed_at FROM whatsapp_messages m JOIN whatsapp_conversations c ON c.id = m.conversation_id "
         "JOIN whatsapp_contacts ct ON ct.id = c.contact_id"},
        {"statuses",
         "SELECT wa_message_id, status, recipient_id, error_code, error_title, error_details, payload, webhook_event_id, occurred_at "
         "FROM whatsapp_message_statuses"},
        {"errors", "SELECT source, wa_message_id, code, title, message, details, webhook_event_id FROM whatsapp_errors"},
        {"leads", "SELECT organization_id, contact_name, phone, source, status, notes FROM b2b_leads"},
        {"events", "SELECT id, status, attempts, last_error FROM whatsapp_webhook_events ORDER BY id"},
    };
    std::string out;
    for (const auto& [name, sql] : sections) {
        // Sorted here, byte by byte: the engines sort text and NULLs differently (events by id).
        std::vector<std::string> lines;
        const std::string rows = queryRows(db, sql);
        for (std::size_t at = 0; at < rows.size();) {
            const std::size_t end = std::min(rows.find('\n', at), rows.size());
            lines.push_back(rows.substr(at, end - at));
            at = end + 1;
        }
        if (name != "events") std::sort(lines.begin(), lines.end());
        out += "== " + name + " (" + std::to_string(lines.size()) + ")\n";
        for (const std::string& line : lines) out += line + "\n";
    }
    return out;
}

std::string processTimelineCorpus(HostOptions options) {
    // Posted with no worker running, so that every event waits; then one worker claims them in
    // full batches (inbound_router's batch_size). Posting to a running worker gives claims of one
    // or two events, which never reach the replay within a batch: the same new sender twice, a
    // redelivery, a status before its message, all in one batch.
    options.workerThreads = 0;
    // The index holds what `contacts reindex` put in, nothing more: the matcher's refresh would
    // index the leads the corpus creates, at times that vary from run to run.
    options.pluginsYaml = "    - webhook_receiver: {}\n    - contact_matcher: { refresh_seconds: 0 }\n    - inbound_router: {}\n"
                          "    - cloud_api: {}\n    - outbox: {}\n    - admin_inbox: {}\n";
    HostProcess host(withWebhookSecrets(options));
    host.start();
    auto db = openDatabase(host.databaseUrl());
    seedTimelineCorpus(*db);
    const auto [status, output] = host.cli({"contacts", "reindex"});
    if (status != 0) throw std::runtime_error("contacts reindex: " + output);
    const std::vector<std::string> bodies = timelineCorpus();
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        const HttpResult answer = postSigned(host, bodies[i]);
        if (answer.status != 200) throw std::runtime_error("corpus body " + std::to_string(i) + " answered " + std::to_string(answer.status));
    }
    const std::string waiting = queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status = 'pending'");
    if (waiting != std::to_string(bodies.size()))
        throw std::runtime_error(waiting + " of " + std::to_string(bodies.size()) + " events wait with no worker running");
    if (const int stopped = host.stop(); stopped != 0) throw std::runtime_error("the host without workers exited " + std::to_string(stopped));
    // One worker: batches are claimed and processed in the order the corpus was posted.
    host.setWorkerThreads(1);
    host.start();
    waitForProcessing(*db);
    return timelineDump(*db);
}

std::string timelineCorpusExpectedPath() { return std::string(TAWASUL_SOURCE_DIR) + "/tests/support/timeline-corpus.expected"; }

void checkTimelineCorpus(const std::string& dump, ExpectedFile mode) {
    const std::string path = timelineCorpusExpectedPath();
    if (const char* write = std::getenv("TAWASUL_WRITE_TIMELINE_EXPECTED");
        mode == ExpectedFile::MayRewrite && write && std::string(write) == "1") {
        std::ofstream(path, std::ios::binary) << dump;
        // A rewritten oracle proves nothing: the run fails, and a person reads the diff.
        throw std::runtime_error("expected file rewritten: review the diff and commit it (" + path + ")");
    }
    std::ifstream file(path, std::ios::binary);
    if (!file) throw std::runtime_error("cannot read " + path);
    std::ostringstream expected;
    expected << file.rdbuf();
    if (expected.str() == dump) return;
    std::istringstream want(expected.str()), got(dump);
    std::string a, b;
    for (int line = 1;; ++line) {
        const bool moreA = static_cast<bool>(std::getline(want, a)), moreB = static_cast<bool>(std::getline(got, b));
        if (!moreA && !moreB) break;
        if (a != b || moreA != moreB)
            throw std::runtime_error("timeline differs from " + path + " at line " + std::to_string(line) + ":\n  expected: " +
                                     (moreA ? a : "<end>") + "\n  found:    " + (moreB ? b : "<end>"));
    }
    throw std::runtime_error("timeline differs from " + path);
}

}  // namespace tawasul::test
