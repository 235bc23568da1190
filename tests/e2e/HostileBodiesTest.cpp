// Signed webhook bodies wrong in every way a field can be, generated here from one good message:
// every node replaced by each wrong kind of value (null, booleans, numbers, numbers as strings,
// empty and overlong strings, lone surrogates, arrays, objects), every key removed, and bodies
// that are wrong as a whole (not JSON, invalid UTF-8, 100k-deep nesting, huge arrays, unknown
// message types and fields). Meta signed them, so each is stored (200); then each is processed or
// failed with its reason, the host stays up, and no job is left behind.
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include <Poco/Data/Session.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "HostProcess.hpp"
#include "TestSupport.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;
using Poco::JSON::Array;
using Poco::JSON::Object;

namespace {

// One inbound text and one status, with every level Meta uses.
const std::string kGood = R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages",)"
                          R"("value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},)"
                          R"("contacts":[{"profile":{"name":"Amina"},"wa_id":"213555123456"}],)"
                          R"("messages":[{"from":"213555123456","id":"wamid.HOSTILE","timestamp":"1764065000","type":"text","text":{"body":"bonjour"}}],)"
                          R"("statuses":[{"id":"wamid.HOSTILE.OUT","status":"delivered","timestamp":"1764065001","recipient_id":"213555123456"}]}}]}]})";

// Replaced by raw JSON text after stringify: what Poco would otherwise escape or refuse to build.
const std::string kRawMarker = "@@raw@@";

struct Wrong {
    std::string name;
    Poco::Dynamic::Var value;
    std::string raw;  // when set, the value is this JSON text as written
};

std::vector<Wrong> wrongValues() {
    std::vector<Wrong> values{
        {"null", Poco::Dynamic::Var(), ""},
        {"true", true, ""},
        {"false", false, ""},
        {"zero", 0, ""},
        {"negative", -1, ""},
        {"huge number", 0, "1e308"},
        {"overflowing number", 0, "123456789012345678901234567890"},
        {"fraction", 0.5, ""},
        {"number as string", std::string("42"), ""},
        {"empty string", std::string(""), ""},
        {"lone surrogate", 0, "\"\\ud800 x \\udfff\""},
        {"escaped NUL", 0, "\"a\\u0000b\""},
        {"empty array", 0, "[]"},
        {"empty object", 0, "{}"},
        {"nested arrays", 0, "[[[[[]]]]]"},
        {"array of nulls", 0, "[null,null,null]"},
        {"overlong text", std::string(200000, 'x'), ""},
    };
    return values;
}

// Every path to a value in the document, as keys (objects) and indices (arrays).
using Path = std::vector<Poco::Dynamic::Var>;
void collectPaths(const Poco::Dynamic::Var& node, Path& path, std::vector<Path>& out) {
    if (node.type() == typeid(Object::Ptr)) {
        const auto object = node.extract<Object::Ptr>();
        for (const auto& [key, child] : *object) {
            path.emplace_back(key);
            out.push_back(path);
            collectPaths(child, path, out);
            path.pop_back();
        }
    } else if (node.type() == typeid(Array::Ptr)) {
        const auto array = node.extract<Array::Ptr>();
        for (std::size_t i = 0; i < array->size(); ++i) {
            path.emplace_back(static_cast<int>(i));
            out.push_back(path);
            collectPaths(array->get(static_cast<unsigned>(i)), path, out);
            path.pop_back();
        }
    }
}

// A fresh copy of the good document with the node at `path` set to `value`, or removed.
std::string mutated(const Path& path, const Wrong* value) {
    Poco::Dynamic::Var root = Poco::JSON::Parser().parse(kGood);
    Poco::Dynamic::Var parent = root;
    for (std::size_t i = 0; i + 1 < path.size(); ++i) {
        if (parent.type() == typeid(Object::Ptr)) parent = parent.extract<Object::Ptr>()->get(path[i].convert<std::string>());
        else parent = parent.extract<Array::Ptr>()->get(path[i].convert<unsigned>());
    }
    const Poco::Dynamic::Var replacement = value == nullptr ? Poco::Dynamic::Var() : (value->raw.empty() ? value->value : Poco::Dynamic::Var(kRawMarker));
    if (parent.type() == typeid(Object::Ptr)) {
        Object::Ptr object = parent.extract<Object::Ptr>();
        if (value == nullptr) object->remove(path.back().convert<std::string>());
        else object->set(path.back().convert<std::string>(), replacement);
    } else {
        Array::Ptr array = parent.extract<Array::Ptr>();
        if (value == nullptr) array->remove(path.back().convert<unsigned>());
        else array->set(path.back().convert<unsigned>(), replacement);
    }
    std::ostringstream text;
    root.extract<Object::Ptr>()->stringify(text);
    std::string body = text.str();
    if (value != nullptr && !value->raw.empty()) body.replace(body.find("\"" + kRawMarker + "\""), kRawMarker.size() + 2, value->raw);
    return body;
}

std::string messagesOfType(const std::string& type, const std::string& content) {
    std::string body = kGood;
    const std::string from = R"("type":"text","text":{"body":"bonjour"})";
    return body.replace(body.find(from), from.size(), "\"type\":\"" + type + "\"" + content);
}

// Bodies wrong as a whole, beyond one node.
std::vector<std::pair<std::string, std::string>> wholeBodies() {
    std::vector<std::pair<std::string, std::string>> bodies{
        {"empty body", ""},
        {"not JSON", "this is not json"},
        {"truncated JSON", kGood.substr(0, kGood.size() / 2)},
        {"top-level array", "[" + kGood + "]"},
        {"top-level string", "\"whatsapp_business_account\""},
        {"top-level number", "42"},
        {"top-level null", "null"},
        {"byte order mark", "\xEF\xBB\xBF" + kGood},
        {"trailing garbage", kGood + "}}}"},
        {"NUL byte inside", kGood.substr(0, 20) + std::string(1, '\0') + kGood.substr(20)},
        {"wrong object", R"({"object":"page","entry":[]})"},
        {"duplicate keys", R"({"object":"whatsapp_business_account","object":"page","entry":[],"entry":{}})"},
        {"100k-deep arrays", std::string(100000, '[') + std::string(100000, ']')},
        {"100k-deep objects", [] {
             std::string s;
             for (int i = 0; i < 100000; ++i) s += "{\"a\":";
             s += "1";
             s += std::string(100000, '}');
             return s;
         }()},
        {"deep value in a message", messagesOfType("text", ",\"text\":" + std::string(5000, '[') + std::string(5000, ']'))},
    };
    // Invalid UTF-8 in the text and in the name, and a raw (unescaped) control character.
    for (const std::string& bad : {std::string("\xC3\x28"), std::string("\xFF\xFE"), std::string("\xED\xA0\x80"), std::string("\xF4\x90\x80\x80"),
                                   std::string("\x01\x1F")}) {
        std::string body = kGood;
        body.replace(body.find("bonjour"), 7, "bon" + bad + "jour");
        bodies.emplace_back("invalid bytes in the text", body);
        body = kGood;
        body.replace(body.find("Amina"), 5, "Am" + bad);
        bodies.emplace_back("invalid bytes in the name", body);
    }
    // Huge arrays, under Meta's 3 MB.
    {
        std::string messages;
        for (int i = 0; i < 10000; ++i)
            messages += std::string(i ? "," : "") + R"({"from":"213555123456","id":"wamid.HUGE.)" + std::to_string(i) +
                        R"(","timestamp":"1764065000","type":"text","text":{"body":"x"}})";
        std::string body = kGood;
        const auto start = body.find("\"messages\":[") + 12;
        body.replace(start, body.find("]", start) - start, messages);
        bodies.emplace_back("10k messages", body);
        std::string nulls;
        for (int i = 0; i < 200000; ++i) nulls += i ? ",null" : "null";
        bodies.emplace_back("200k nulls as entries", R"({"object":"whatsapp_business_account","entry":[)" + nulls + "]}");
        std::string empties;
        for (int i = 0; i < 100000; ++i) empties += i ? ",{}" : "{}";
        bodies.emplace_back("100k empty changes", R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[)" + empties + "]}]}");
    }
    // Unknown message types, types whose content is missing or of another type, unknown fields.
    for (const std::string& type : {"hologram", "", "TEXT", "image", "audio", "video", "document", "sticker", "location", "contacts",
                                    "interactive", "button", "reaction", "order", "system", "unsupported"}) {
        bodies.emplace_back("type '" + type + "' without its content", messagesOfType(type, ""));
        bodies.emplace_back("type '" + type + "' with a string content", messagesOfType(type, ",\"" + type + "\":\"surprise\""));
    }
    for (const std::string& field : {"hologram_update", "message_template_status_update", "account_update", "smb_message_echoes", "history", ""}) {
        std::string body = kGood;
        body.replace(body.find("\"field\":\"messages\""), 18, "\"field\":\"" + field + "\"");
        bodies.emplace_back("field '" + field + "'", body);
    }
    bodies.emplace_back("status moving nowhere", [] {
        std::string body = kGood;
        return body.replace(body.find("\"delivered\""), 11, "\"teleported\"");
    }());
    bodies.emplace_back("errors of every shape", [] {
        std::string body = kGood;
        const std::string at = "\"messaging_product\":\"whatsapp\",";
        return body.replace(body.find(at), at.size(), at + R"("errors":[null,1,"x",{"code":"131047"},{"code":1e400},{}],)");
    }());
    return bodies;
}

}  // namespace

class HostileBodiesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(HostileBodiesTest);
    CPPUNIT_TEST(everyHostileBodyIsStoredThenProcessedOrFailedWithItsReason);
    CPPUNIT_TEST(aTimestampPastYear9999IsTheArrivalTime);
    CPPUNIT_TEST(aMessageWithoutAnIdIsKeptInItsEventOnly);
    CPPUNIT_TEST_SUITE_END();

public:
    void everyHostileBodyIsStoredThenProcessedOrFailedWithItsReason() {
        std::vector<std::pair<std::string, std::string>> bodies;
        std::vector<Path> paths;
        Path path;
        collectPaths(Poco::JSON::Parser().parse(kGood), path, paths);
        const auto values = wrongValues();
        for (const auto& where : paths) {
            std::string name;
            for (const auto& part : where) name += "/" + part.convert<std::string>();
            bodies.emplace_back(name + " removed", mutated(where, nullptr));
            for (const auto& value : values) bodies.emplace_back(name + " = " + value.name, mutated(where, &value));
        }
        for (auto& whole : wholeBodies()) bodies.push_back(std::move(whole));
        CPPUNIT_ASSERT_MESSAGE(std::to_string(bodies.size()), bodies.size() >= 200);

        HostOptions options = withWebhookSecrets();
        options.workerThreads = 2;
        HostProcess host(options);
        host.start();

        std::mutex mutex;
        std::map<std::int64_t, std::string> stored;  // event id → what was wrong with it
        std::vector<std::string> refused;
        std::atomic<std::size_t> next{0};
        std::vector<std::thread> clients;
        for (int c = 0; c < 8; ++c)
            clients.emplace_back([&] {
                for (std::size_t i; (i = next++) < bodies.size();) {
                    const HttpResult reply = postSigned(host, bodies[i].second);
                    std::lock_guard lock(mutex);
                    if (reply.status == 200 && reply.headers.count("x-tawasul-event-id"))
                        stored[std::stoll(reply.headers.at("x-tawasul-event-id"))] = bodies[i].first;
                    else
                        refused.push_back(bodies[i].first + ": " + std::to_string(reply.status) + " " + reply.body);
                }
            });
        for (auto& client : clients) client.join();
        CPPUNIT_ASSERT_MESSAGE(refused.empty() ? "" : refused.front() + "\n" + host.log(), refused.empty());
        CPPUNIT_ASSERT_EQUAL(bodies.size(), stored.size());

        // Nothing left pending or running: every job ended, the host is still up.
        auto db = openDatabase(host.databaseUrl());
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(200, host.request("GET", "/readyz").status);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM jobs WHERE status IN ('pending', 'running')"));

        Poco::Data::Session session = db->session();
        std::vector<Poco::Int64> ids;
        std::vector<std::string> statuses;
        std::vector<Poco::Nullable<std::string>> errors;
        session << "SELECT id, status, last_error FROM whatsapp_webhook_events ORDER BY id", Poco::Data::Keywords::into(ids),
            Poco::Data::Keywords::into(statuses), Poco::Data::Keywords::into(errors), Poco::Data::Keywords::now;
        CPPUNIT_ASSERT_EQUAL(stored.size(), ids.size());
        std::size_t processed = 0, failed = 0;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            const std::string what = stored.count(ids[i]) ? stored.at(ids[i]) : "event " + std::to_string(ids[i]);
            if (statuses[i] == "processed") {
                ++processed;
                continue;
            }
            CPPUNIT_ASSERT_EQUAL_MESSAGE(what, std::string("failed"), statuses[i]);
            CPPUNIT_ASSERT_MESSAGE(what + ": a failure says why", !errors[i].isNull() && !errors[i].value().empty());
            ++failed;
        }
        // Both outcomes occur: a wrong leaf is skipped with the rest processed, a wrong whole fails.
        CPPUNIT_ASSERT(processed > 0);
        CPPUNIT_ASSERT(failed > 0);
        CPPUNIT_ASSERT_EQUAL(0, host.stop());
    }

    // Seconds past 9999-12-31 once became milliseconds that overflowed (undefined behaviour, seen by
    // UBSan in fuzz_webhook_notification) or five-digit years on every page. Such a message takes
    // the time it arrived, like one with no timestamp; the last second of 9999 is still a time.
    void aTimestampPastYear9999IsTheArrivalTime() {
        HostOptions options = withWebhookSecrets();
        options.workerThreads = 1;
        HostProcess host(options);
        host.start();
        const std::vector<std::pair<std::string, std::string>> stamps{
            {"wamid.T.LAST", "253402300799"}, {"wamid.T.PAST", "253402300800"}, {"wamid.T.MAX", "9223372036854775807"},
            {"wamid.T.HUGE", "99999999999999999999"}};
        const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
        for (const auto& [wamid, stamp] : stamps) {
            std::string body = kGood;
            body.replace(body.find("wamid.HOSTILE\""), 14, wamid + "\"");
            body.replace(body.find("\"1764065000\""), 12, "\"" + stamp + "\"");
            CPPUNIT_ASSERT_EQUAL(200, postSigned(host, body).status);
        }
        auto db = openDatabase(host.databaseUrl());
        waitForProcessing(*db);
        const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
        CPPUNIT_ASSERT_EQUAL(std::string("253402300799000"),
                             queryText(*db, "SELECT created_at FROM whatsapp_messages WHERE wa_message_id = 'wamid.T.LAST'"));
        for (const char* wamid : {"wamid.T.PAST", "wamid.T.MAX", "wamid.T.HUGE"}) {
            const long long at = std::stoll(queryText(*db, std::string("SELECT created_at FROM whatsapp_messages WHERE wa_message_id = '") + wamid + "'"));
            CPPUNIT_ASSERT_MESSAGE(wamid, at >= before && at <= after);
        }
        CPPUNIT_ASSERT_EQUAL(0, host.stop());
    }

    // A message without an id cannot be told from its redelivery: each delivery once added it
    // again (fuzz_webhook_notification). It stays in its stored event only, which is processed.
    void aMessageWithoutAnIdIsKeptInItsEventOnly() {
        HostProcess host(withWebhookSecrets());
        host.start();
        std::string body = kGood;
        const std::string id = "\"id\":\"wamid.HOSTILE\",";
        body.replace(body.find(id), id.size(), "");
        for (int delivery = 0; delivery < 2; ++delivery) CPPUNIT_ASSERT_EQUAL(200, postSigned(host, body).status);
        auto db = openDatabase(host.databaseUrl());
        waitForProcessing(*db);
        CPPUNIT_ASSERT_EQUAL(std::string("2"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status = 'processed'"));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db, "SELECT COUNT(*) FROM whatsapp_messages"));
        CPPUNIT_ASSERT_EQUAL(0, host.stop());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HostileBodiesTest);
