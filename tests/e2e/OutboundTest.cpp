// Outbound end to end: the real host sends through cloud_api to a fake Graph API and falls back to
// the outbox; every answer class of Meta is played and the timeline (message, attempts, alerts)
// is read back from the database.
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <thread>

#include <Poco/Data/Session.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "FakeGraphApi.hpp"
#include "HostProcess.hpp"
#include "whatsapp/MetaPayloads.hpp"
#include "OutboundSupport.hpp"
#include "WebhookSupport.hpp"

using namespace tawasul;
using namespace tawasul::test;
using namespace Poco::Data::Keywords;

namespace {

const std::string kToken = kGraphToken;
const std::string kPhoneNumberId = kGraphPhoneNumberId;
const std::string kCustomer = kCustomerWaId;

Poco::JSON::Object::Ptr send(const HostProcess& host, const std::string& json) { return sendThroughProbe(host, json); }
void waitFor(sdk::Database& db, const std::string& sql, const std::string& expected) { waitForRows(db, sql, expected); }
std::string attempts(sdk::Database& db, std::int64_t messageId) { return attemptRows(db, messageId); }

std::string field(const Poco::JSON::Object::Ptr& object, const std::string& key) { return object->getValue<std::string>(key); }

std::string templateJson(const std::string& target, const std::string& key = "") {
    return "{" + target + ",\"template\":{\"name\":\"rappel\",\"language\":\"fr\",\"components\":[{\"type\":\"body\",\"parameters\":"
           "[{\"name\":\"first_name\",\"value\":\"Amina\"}]}]}" + (key.empty() ? "" : ",\"idempotency_key\":\"" + key + "\"") + "}";
}

}  // namespace

class OutboundTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(OutboundTest);
    CPPUNIT_TEST(textInsideTheWindowIsSent);
    CPPUNIT_TEST(templateOutsideTheWindowIsSentToANewPhone);
    CPPUNIT_TEST(freeTextOutsideTheWindowIsRefusedBeforeAnyCall);
    CPPUNIT_TEST(invalidRequestsStoreNothing);
    CPPUNIT_TEST(throughputLimitThenSuccessSendsOnce);
    CPPUNIT_TEST(droppedConnectionIsRetriedAndSentOnce);
    CPPUNIT_TEST(slowAnswerTimesOutAndIsRetried);
    CPPUNIT_TEST(sameIdempotencyKeyTwiceSendsOnce);
    CPPUNIT_TEST(statusWebhooksMoveTheMessageForward);
    CPPUNIT_TEST(statusBeforeTheWamidIsAppliedWhenItIsKnown);
    CPPUNIT_TEST(markReadSendsTheLastInboundWamid);
    CPPUNIT_TEST(autoReplyIsSentOncePerTriggeringMessage);
    CPPUNIT_TEST(windowRefusalMovesTheMessageToTheOutbox);
    CPPUNIT_TEST(expiredTokenMakesCloudApiUnhealthyUntilTheTokenChanges);
    CPPUNIT_TEST(successfulTestConnectionClearsTheUnhealthyState);
    CPPUNIT_TEST(switchedOffCloudApiSendsNothingToMeta);
    CPPUNIT_TEST(missingTemplateVariableFailsWithTheReason);
    CPPUNIT_TEST(platformEventRunsAFlowIntoTheOutbox);
    CPPUNIT_TEST(flowStepRendersTheHeaderAndLinks);
    CPPUNIT_TEST(aBsuidOnlyContactIsAnsweredWithRecipient);
    CPPUNIT_TEST(theOutboxRefusesABsuidOnlyContact);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override {
        fake_ = std::make_unique<FakeGraphApi>();
        host_ = std::make_unique<HostProcess>(outboundHost(*fake_));
        host_->start();
        db_ = openDatabase(host_->databaseUrl());
    }
    void tearDown() override {
        db_.reset();
        host_.reset();
        fake_.reset();
    }

    // A customer with a username writes with only a business-scoped user id (no phone): the reply
    // goes to that id in `recipient`, with no `to` (a BSUID in `to` is dropped by Meta, refused with
    // 100 by the fake); a status naming only recipient_user_id moves the reply.
    void aBsuidOnlyContactIsAnsweredWithRecipient() {
        const std::string bsuid = "DZ.13491208655302741918";
        const std::int64_t conversation = bsuidCustomerWrites(bsuid, "wamid.INBSUID1");
        CPPUNIT_ASSERT_EQUAL("|" + bsuid + "|amina.dz",
                             queryRows(*db_, "SELECT k.phone_e164, k.user_id, k.username FROM whatsapp_contacts k JOIN whatsapp_conversations c "
                                             "ON c.contact_id = k.id WHERE c.id = " + std::to_string(conversation)));
        const auto receipt = send(*host_, "{\"conversation_id\":" + std::to_string(conversation) + ",\"text\":\"Bonjour Amina\"}");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(field(receipt, "message"), std::string("accepted"), field(receipt, "status"));
        const std::int64_t id = receipt->getValue<Poco::Int64>("message_id");
        waitFor(*db_, "SELECT status, provider FROM whatsapp_messages WHERE id = " + std::to_string(id), "sent|cloud_api");
        const auto sends = fake_->sends();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sends.size());
        const auto body = Poco::JSON::Parser().parse(sends[0].body).extract<Poco::JSON::Object::Ptr>();
        CPPUNIT_ASSERT_EQUAL(bsuid, field(body, "recipient"));
        CPPUNIT_ASSERT_MESSAGE(sends[0].body, !body->has("to"));
        CPPUNIT_ASSERT_EQUAL(std::string("Bonjour Amina"), body->getObject("text")->getValue<std::string>("body"));
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|1|sent|200|0"), attempts(*db_, id));

        // Meta's status for it names the recipient by BSUID only.
        host::StatusUpdate update;
        update.wamid = fake_->wamids().at(0);
        update.status = "delivered";
        update.recipientUserId = bsuid;
        update.timestamp = nowSeconds();
        CPPUNIT_ASSERT_EQUAL(200, postSigned(*host_, host::statusBody(update)).status);
        waitFor(*db_, "SELECT status FROM whatsapp_messages WHERE id = " + std::to_string(id), "delivered");
        CPPUNIT_ASSERT_EQUAL("|" + bsuid, queryRows(*db_, "SELECT recipient_id, recipient_user_id FROM whatsapp_message_statuses"));

        // The fake is Meta's bar: a BSUID in `to` is refused with 100, nobody named too.
        const auto refused = httpRequest("POST", "127.0.0.1", fake_->port(), "/v21.0/" + kPhoneNumberId + "/messages",
                                         "{\"messaging_product\":\"whatsapp\",\"to\":\"" + bsuid + "\",\"type\":\"text\",\"text\":{\"body\":\"x\"}}",
                                         {{"Authorization", "Bearer " + kToken}, {"Content-Type", "application/json"}});
        CPPUNIT_ASSERT_EQUAL(400, refused.status);
        CPPUNIT_ASSERT_MESSAGE(refused.body, refused.body.find("\"code\":100") != std::string::npos);
        const auto nobody = httpRequest("POST", "127.0.0.1", fake_->port(), "/v21.0/" + kPhoneNumberId + "/messages",
                                        "{\"messaging_product\":\"whatsapp\",\"type\":\"text\",\"text\":{\"body\":\"x\"}}",
                                        {{"Authorization", "Bearer " + kToken}, {"Content-Type", "application/json"}});
        CPPUNIT_ASSERT_EQUAL(400, nobody.status);
    }

    // The outbox sends by hand through a wa.me link, which needs a phone: a reply to a contact known
    // only by BSUID that the Cloud API refused fails with that reason, and no outbox row is made.
    void theOutboxRefusesABsuidOnlyContact() {
        const std::int64_t conversation = bsuidCustomerWrites("DZ.99887766554433221100", "wamid.INBSUID2");
        fake_->script({GraphReply::metaError(400, 131026, "(#131026) Message undeliverable", "Message Undeliverable.")});
        const auto receipt = send(*host_, "{\"conversation_id\":" + std::to_string(conversation) + ",\"text\":\"Bonjour\"}");
        CPPUNIT_ASSERT_EQUAL(std::string("accepted"), field(receipt, "status"));
        const std::int64_t id = receipt->getValue<Poco::Int64>("message_id");
        waitFor(*db_, "SELECT status FROM whatsapp_messages WHERE id = " + std::to_string(id), "failed");
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|1|refused|400|131026\noutbox|1|refused|0|0"), attempts(*db_, id));
        CPPUNIT_ASSERT_EQUAL(std::string("no phone number"),
                             queryText(*db_, "SELECT error_title FROM whatsapp_message_attempts WHERE message_id = " + std::to_string(id) +
                                                 " AND provider = 'outbox'"));
        const std::string details = queryText(*db_, "SELECT error_details FROM whatsapp_messages WHERE id = " + std::to_string(id));
        CPPUNIT_ASSERT_MESSAGE(details, details.find("wa.me link, which needs a phone number") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(details, details.find("DZ.99887766554433221100") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db_, "SELECT COUNT(*) FROM whatsapp_outbox_messages"));
    }

    void textInsideTheWindowIsSent() {
        const std::int64_t conversation = customerWrites(*host_, *db_, "wamid.IN1");
        const auto receipt = send(*host_, "{\"conversation_id\":" + std::to_string(conversation) +
                                               ",\"text\":\"Merci, à bientôt — شكرا\",\"reply_to\":\"wamid.IN1\"}");
        CPPUNIT_ASSERT_EQUAL(std::string("accepted"), field(receipt, "status"));
        const std::int64_t id = receipt->getValue<Poco::Int64>("message_id");
        waitFor(*db_, "SELECT status, provider FROM whatsapp_messages WHERE id = " + std::to_string(id), "sent|cloud_api");

        const auto sends = fake_->sends();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sends.size());
        CPPUNIT_ASSERT_EQUAL(std::string("/v21.0/" + kPhoneNumberId + "/messages"), sends[0].path);
        CPPUNIT_ASSERT_EQUAL(std::string("Bearer " + kToken), sends[0].headers.at("authorization"));
        const auto body = Poco::JSON::Parser().parse(sends[0].body).extract<Poco::JSON::Object::Ptr>();
        CPPUNIT_ASSERT_EQUAL(std::string("+" + kCustomer), field(body, "to"));
        CPPUNIT_ASSERT_EQUAL(std::string("text"), field(body, "type"));
        CPPUNIT_ASSERT_EQUAL(std::string("Merci, à bientôt — شكرا"), body->getObject("text")->getValue<std::string>("body"));
        CPPUNIT_ASSERT_EQUAL(std::string("wamid.IN1"), body->getObject("context")->getValue<std::string>("message_id"));
        CPPUNIT_ASSERT_EQUAL(fake_->wamids().at(0), queryText(*db_, "SELECT wa_message_id FROM whatsapp_messages WHERE id = " + std::to_string(id)));
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|1|sent|200|0"), attempts(*db_, id));
        CPPUNIT_ASSERT_EQUAL(std::string("out|text|" + std::to_string(conversation)),
                             queryRows(*db_, "SELECT direction, type, conversation_id FROM whatsapp_messages WHERE id = " + std::to_string(id)));
        const std::string metrics = host_->request("GET", "/metrics").body;
        CPPUNIT_ASSERT_MESSAGE(metrics, metrics.find("tawasul_outbound_requests_total{status=\"accepted\"} 1\n") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(metrics, metrics.find("tawasul_outbound_sends_total{provider=\"cloud_api\",outcome=\"sent\"} 1\n") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(metrics, metrics.find("tawasul_outbound_attempt_duration_seconds_count 1\n") != std::string::npos);
    }

    void templateOutsideTheWindowIsSentToANewPhone() {
        const auto receipt = send(*host_, templateJson("\"phone\":\"0555 12 34 56\""));
        CPPUNIT_ASSERT_EQUAL(std::string("accepted"), field(receipt, "status"));
        const std::int64_t id = receipt->getValue<Poco::Int64>("message_id");
        waitFor(*db_, "SELECT status FROM whatsapp_messages WHERE id = " + std::to_string(id), "sent");
        // A contact and an open conversation were made for the phone, keyed like inbound ones.
        CPPUNIT_ASSERT_EQUAL(std::string(kPhoneNumberId + "|" + kCustomer + "|+" + kCustomer + "|open"),
                             queryRows(*db_, "SELECT k.phone_number_id, k.wa_id, k.phone_e164, c.status FROM whatsapp_contacts k "
                                             "JOIN whatsapp_conversations c ON c.contact_id = k.id"));
        const auto body = Poco::JSON::Parser().parse(fake_->sends().at(0).body).extract<Poco::JSON::Object::Ptr>();
        CPPUNIT_ASSERT_EQUAL(std::string("template"), field(body, "type"));
        const auto templ = body->getObject("template");
        CPPUNIT_ASSERT_EQUAL(std::string("rappel"), templ->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::string("fr"), templ->getObject("language")->getValue<std::string>("code"));
        const auto parameter = templ->getArray("components")->getObject(0)->getArray("parameters")->getObject(0);
        CPPUNIT_ASSERT_EQUAL(std::string("first_name"), parameter->getValue<std::string>("parameter_name"));
        CPPUNIT_ASSERT_EQUAL(std::string("Amina"), parameter->getValue<std::string>("text"));
        // The customer answers: the answer lands in the same conversation.
        const std::int64_t conversation = customerWrites(*host_, *db_, "wamid.ANSWER");
        CPPUNIT_ASSERT_EQUAL(receipt->getValue<Poco::Int64>("conversation_id"), conversation);
    }

    void freeTextOutsideTheWindowIsRefusedBeforeAnyCall() {
        // Never wrote.
        auto receipt = send(*host_, "{\"phone\":\"+213555123456\",\"text\":\"Bonjour\"}");
        CPPUNIT_ASSERT_EQUAL(std::string("window_closed"), field(receipt, "status"));
        CPPUNIT_ASSERT(field(receipt, "message").find("choose a template") != std::string::npos);
        // Refused before anything was stored: not even the contact and conversation a send to a new phone makes.
        CPPUNIT_ASSERT_EQUAL(std::string("0|0"), queryRows(*db_, "SELECT (SELECT COUNT(*) FROM whatsapp_contacts), "
                                                                  "(SELECT COUNT(*) FROM whatsapp_conversations)"));
        // Wrote 25 hours ago.
        const std::int64_t conversation = customerWrites(*host_, *db_, "wamid.OLD", 25 * 3600);
        receipt = send(*host_, "{\"conversation_id\":" + std::to_string(conversation) + ",\"text\":\"Bonjour\"}");
        CPPUNIT_ASSERT_EQUAL(std::string("window_closed"), field(receipt, "status"));
        CPPUNIT_ASSERT_EQUAL(std::string("0|0"), queryRows(*db_, "SELECT (SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'out'), "
                                                                  "(SELECT COUNT(*) FROM jobs WHERE type = 'send_message')"));
        // Only the first attempt's conversation came from the inbound message: the refused send made none.
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db_, "SELECT COUNT(*) FROM whatsapp_conversations"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), fake_->requests().size());
    }

    void invalidRequestsStoreNothing() {
        const std::pair<std::string, std::string> cases[] = {
            {"{\"phone\":\"+213555123456\",\"text\":\"  \"}", "text"},
            {"{\"phone\":\"not a phone\",\"template\":{\"name\":\"rappel\",\"language\":\"fr\"}}", "phone"},
            {"{\"conversation_id\":999,\"template\":{\"name\":\"rappel\",\"language\":\"fr\"}}", "conversation_id"},
            {"{\"phone\":\"+213555123456\",\"template\":{\"name\":\"rappel\",\"language\":\"\"}}", "template.language"},
            {"{\"phone\":\"+213555123456\",\"template\":{\"name\":\"\",\"language\":\"fr\"}}", "template.name"},
            {"{\"template\":{\"name\":\"rappel\",\"language\":\"fr\"}}", "phone"},
        };
        for (const auto& [json, expectedField] : cases) {
            const auto receipt = send(*host_, json);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(json, std::string("invalid"), field(receipt, "status"));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(json, expectedField, field(receipt, "field"));
        }
        CPPUNIT_ASSERT_EQUAL(std::string("0|0|0"), queryRows(*db_, "SELECT (SELECT COUNT(*) FROM whatsapp_messages), "
                                                                    "(SELECT COUNT(*) FROM whatsapp_contacts), (SELECT COUNT(*) FROM jobs)"));
    }

    void throughputLimitThenSuccessSendsOnce() {
        fake_->script({GraphReply::metaError(400, 130429, "(#130429) Rate limit hit")});
        const auto receipt = send(*host_, templateJson("\"phone\":\"+213555123456\""));
        const std::int64_t id = receipt->getValue<Poco::Int64>("message_id");
        waitFor(*db_, "SELECT status FROM whatsapp_messages WHERE id = " + std::to_string(id), "sent");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), fake_->sendCount());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), fake_->wamids().size());
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|1|retry|400|130429\ncloud_api|2|sent|200|0"), attempts(*db_, id));
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db_, "SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'out'"));
        CPPUNIT_ASSERT_EQUAL(fake_->wamids().at(0), queryText(*db_, "SELECT wa_message_id FROM whatsapp_messages WHERE id = " + std::to_string(id)));
    }

    void droppedConnectionIsRetriedAndSentOnce() {
        fake_->script({GraphReply::drop()});
        const auto receipt = send(*host_, templateJson("\"phone\":\"+213555123456\""));
        const std::int64_t id = receipt->getValue<Poco::Int64>("message_id");
        waitFor(*db_, "SELECT status FROM whatsapp_messages WHERE id = " + std::to_string(id), "sent");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), fake_->sendCount());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), fake_->wamids().size());
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|1|retry|0|0\ncloud_api|2|sent|200|0"), attempts(*db_, id));
    }

    void slowAnswerTimesOutAndIsRetried() {
        // cloud_api waits 1 s (timeout_ms in the test host); the fake answers after 2.5 s.
        fake_->script({GraphReply::slow(std::chrono::milliseconds(2500))});
        const auto receipt = send(*host_, templateJson("\"phone\":\"+213555123456\""));
        const std::int64_t id = receipt->getValue<Poco::Int64>("message_id");
        waitFor(*db_, "SELECT status FROM whatsapp_messages WHERE id = " + std::to_string(id), "sent");
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|1|retry|0|0\ncloud_api|2|sent|200|0"), attempts(*db_, id));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), fake_->sendCount());
        // The stored wamid is the one of the answer that arrived (the late one never did).
        CPPUNIT_ASSERT_EQUAL(fake_->wamids().back(), queryText(*db_, "SELECT wa_message_id FROM whatsapp_messages WHERE id = " + std::to_string(id)));
    }

    void sameIdempotencyKeyTwiceSendsOnce() {
        const auto first = send(*host_, templateJson("\"phone\":\"+213555123456\"", "click-1"));
        const auto second = send(*host_, templateJson("\"phone\":\"+213555123456\"", "click-1"));
        CPPUNIT_ASSERT_EQUAL(std::string("accepted"), field(first, "status"));
        CPPUNIT_ASSERT_EQUAL(std::string("duplicate"), field(second, "status"));
        CPPUNIT_ASSERT_EQUAL(first->getValue<Poco::Int64>("message_id"), second->getValue<Poco::Int64>("message_id"));
        const std::int64_t id = first->getValue<Poco::Int64>("message_id");
        waitFor(*db_, "SELECT status FROM whatsapp_messages WHERE id = " + std::to_string(id), "sent");
        // A third, after the send: still the same message, still one request.
        CPPUNIT_ASSERT_EQUAL(std::string("duplicate"), field(send(*host_, templateJson("\"phone\":\"+213555123456\"", "click-1")), "status"));
        CPPUNIT_ASSERT_EQUAL(std::string("1|1"), queryRows(*db_, "SELECT (SELECT COUNT(*) FROM whatsapp_messages), "
                                                                  "(SELECT COUNT(*) FROM jobs WHERE type = 'send_message')"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), fake_->sendCount());
    }

    void statusWebhooksMoveTheMessageForward() {
        const auto receipt = send(*host_, templateJson("\"phone\":\"+213555123456\""));
        const std::int64_t id = receipt->getValue<Poco::Int64>("message_id");
        waitFor(*db_, "SELECT status FROM whatsapp_messages WHERE id = " + std::to_string(id), "sent");
        const std::string wamid = fake_->wamids().at(0);
        const std::int64_t at = nowSeconds();
        CPPUNIT_ASSERT_EQUAL(200, FakeGraphApi::postStatus(*host_, wamid, "delivered", at).status);
        waitForProcessing(*db_);
        CPPUNIT_ASSERT_EQUAL(std::string("delivered|1"), queryRows(*db_, "SELECT status, delivered_at = " + std::to_string(at * 1000) +
                                                                            " FROM whatsapp_messages WHERE id = " + std::to_string(id)));
        CPPUNIT_ASSERT_EQUAL(200, FakeGraphApi::postStatus(*host_, wamid, "read", at + 5).status);
        // A late "sent" does not move it back.
        CPPUNIT_ASSERT_EQUAL(200, FakeGraphApi::postStatus(*host_, wamid, "sent", at - 5).status);
        waitForProcessing(*db_);
        CPPUNIT_ASSERT_EQUAL(std::string("read"), queryText(*db_, "SELECT status FROM whatsapp_messages WHERE id = " + std::to_string(id)));
    }

    void statusBeforeTheWamidIsAppliedWhenItIsKnown() {
        const std::string wamid = fake_->nextWamid();
        CPPUNIT_ASSERT_EQUAL(200, FakeGraphApi::postStatus(*host_, wamid, "delivered", nowSeconds()).status);
        waitForProcessing(*db_);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db_, "SELECT COUNT(*) FROM whatsapp_message_statuses WHERE wa_message_id = '" + wamid + "'"));
        const auto receipt = send(*host_, templateJson("\"phone\":\"+213555123456\""));
        const std::int64_t id = receipt->getValue<Poco::Int64>("message_id");
        waitFor(*db_, "SELECT wa_message_id, status FROM whatsapp_messages WHERE id = " + std::to_string(id), wamid + "|delivered");
    }

    void markReadSendsTheLastInboundWamid() {
        customerWrites(*host_, *db_, "wamid.FIRST", 60);
        const std::int64_t conversation = customerWrites(*host_, *db_, "wamid.LAST");
        const auto response = host_->request("POST", "/test/mark-read/" + std::to_string(conversation));
        CPPUNIT_ASSERT_EQUAL(std::string("{\"ok\":true}"), response.body);
        const auto requests = fake_->requests();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), requests.size());
        const auto body = Poco::JSON::Parser().parse(requests[0].body).extract<Poco::JSON::Object::Ptr>();
        CPPUNIT_ASSERT_EQUAL(std::string("read"), field(body, "status"));
        CPPUNIT_ASSERT_EQUAL(std::string("wamid.LAST"), field(body, "message_id"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), fake_->sendCount());
    }

    void autoReplyIsSentOncePerTriggeringMessage() {
        host::InboundText message;
        message.from = kCustomer;
        message.wamid = "wamid.PRICE";
        message.timestamp = nowSeconds();
        message.text = "Quel est le tarif ?";
        const std::string body = host::inboundTextBody(message);
        CPPUNIT_ASSERT_EQUAL(200, postSigned(*host_, body).status);
        waitForProcessing(*db_);
        waitFor(*db_, "SELECT type, body, status FROM whatsapp_messages WHERE direction = 'out'", "template|template tarifs (fr)|sent");
        // Meta delivers the same webhook again: no second reply.
        CPPUNIT_ASSERT_EQUAL(200, postSigned(*host_, body).status);
        waitForProcessing(*db_);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db_, "SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'out'"));
        const auto sent = Poco::JSON::Parser().parse(fake_->sends().at(0).body).extract<Poco::JSON::Object::Ptr>();
        CPPUNIT_ASSERT_EQUAL(std::string("tarifs"), sent->getObject("template")->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), fake_->sendCount());
    }

    void windowRefusalMovesTheMessageToTheOutbox() {
        const std::int64_t conversation = customerWrites(*host_, *db_, "wamid.IN131047");
        fake_->script({GraphReply::metaError(400, 131047, "(#131047) Re-engagement message",
                                             "Message failed to send because more than 24 hours have passed")});
        const auto receipt = send(*host_, "{\"conversation_id\":" + std::to_string(conversation) + ",\"text\":\"Bonjour Amina\"}");
        const std::int64_t id = receipt->getValue<Poco::Int64>("message_id");
        waitFor(*db_, "SELECT status, provider FROM whatsapp_messages WHERE id = " + std::to_string(id), "queued|outbox");
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|1|refused|400|131047\noutbox|1|queued|0|0"), attempts(*db_, id));
        const std::string note = queryText(*db_, "SELECT note FROM whatsapp_message_attempts WHERE message_id = " + std::to_string(id) +
                                                     " AND provider = 'cloud_api'");
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api 131047 ((#131047) Re-engagement message) refused (outside the 24-hour window), handed to outbox"), note);
        CPPUNIT_ASSERT_EQUAL(std::string("queued for manual sending"),
                             queryText(*db_, "SELECT note FROM whatsapp_message_attempts WHERE message_id = " + std::to_string(id) + " AND provider = 'outbox'"));
        CPPUNIT_ASSERT_EQUAL(std::string("+213555123456|Bonjour Amina|https://wa.me/213555123456?text=Bonjour%20Amina|pending"),
                             queryRows(*db_, "SELECT recipient_phone, rendered_text, wa_me_link, status FROM whatsapp_outbox_messages "
                                             "WHERE message_id = " + std::to_string(id)));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), fake_->sendCount());
    }

    void expiredTokenMakesCloudApiUnhealthyUntilTheTokenChanges() {
        seedTemplate("rappel", "fr", "Bonjour {{first_name}}, rappel de votre session.");
        fake_->script({GraphReply::metaError(401, 190, "Error validating access token: Session has expired")});
        const auto first = send(*host_, templateJson("\"phone\":\"+213555123456\""));
        const std::int64_t firstId = first->getValue<Poco::Int64>("message_id");
        waitFor(*db_, "SELECT status, provider FROM whatsapp_messages WHERE id = " + std::to_string(firstId), "queued|outbox");
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|1|unavailable|401|190\noutbox|1|queued|0|0"), attempts(*db_, firstId));
        CPPUNIT_ASSERT_EQUAL(std::string("Bonjour Amina, rappel de votre session."),
                             queryText(*db_, "SELECT rendered_text FROM whatsapp_outbox_messages WHERE message_id = " + std::to_string(firstId)));
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|190|1"),
                             queryRows(*db_, "SELECT source, code, resolved_at IS NULL FROM whatsapp_alerts"));
        const auto chain = host_->request("GET", "/test/chain").body;
        CPPUNIT_ASSERT_MESSAGE(chain, chain.find("\"state\":\"unhealthy\"") != std::string::npos);

        // The next message goes straight to the outbox: no call to Meta.
        const auto second = send(*host_, templateJson("\"phone\":\"+213555123456\""));
        const std::int64_t secondId = second->getValue<Poco::Int64>("message_id");
        waitFor(*db_, "SELECT status, provider FROM whatsapp_messages WHERE id = " + std::to_string(secondId), "queued|outbox");
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|1|unavailable|0|0\noutbox|1|queued|0|0"), attempts(*db_, secondId));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), fake_->sendCount());
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db_, "SELECT COUNT(*) FROM whatsapp_alerts"));

        // An admin stores a new token: the Cloud API is used again and the alert is resolved.
        const auto [status, output] = host_->cli({"settings", "set", "whatsapp.cloud.access_token", "test-token-2"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
        // Hosts see other processes' settings within the settings cache's refresh interval.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (host_->request("GET", "/test/chain").body.find("unhealthy") != std::string::npos &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const auto third = send(*host_, templateJson("\"phone\":\"+213555123456\""));
        const std::int64_t thirdId = third->getValue<Poco::Int64>("message_id");
        waitFor(*db_, "SELECT status, provider FROM whatsapp_messages WHERE id = " + std::to_string(thirdId), "sent|cloud_api");
        CPPUNIT_ASSERT_EQUAL(std::string("Bearer test-token-2"), fake_->sends().back().headers.at("authorization"));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db_, "SELECT COUNT(*) FROM whatsapp_alerts WHERE resolved_at IS NULL"));
        // The token never reaches the log.
        CPPUNIT_ASSERT(host_->log().find("test-token-") == std::string::npos);
    }

    void switchedOffCloudApiSendsNothingToMeta() {
        // whatsapp.cloud.enabled false (set by another process, as on another host): the Cloud API
        // is Disabled in the chain and every send goes to the outbox with no call to Meta.
        seedTemplate("rappel", "fr", "Bonjour {{first_name}}.");
        const auto [status, output] = host_->cli({"settings", "set", "whatsapp.cloud.enabled", "false"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(output, 0, status);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (host_->request("GET", "/test/chain").body.find("\"state\":\"disabled\"") == std::string::npos &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const auto chain = host_->request("GET", "/test/chain").body;
        CPPUNIT_ASSERT_MESSAGE(chain, chain.find("\"state\":\"disabled\"") != std::string::npos);
        const auto sent = send(*host_, templateJson("\"phone\":\"+213555123456\""));
        const std::int64_t id = sent->getValue<Poco::Int64>("message_id");
        waitFor(*db_, "SELECT status, provider FROM whatsapp_messages WHERE id = " + std::to_string(id), "queued|outbox");
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|1|unavailable|0|0\noutbox|1|queued|0|0"), attempts(*db_, id));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), fake_->sendCount());
        // Switched on again, the Cloud API sends.
        CPPUNIT_ASSERT_EQUAL(0, host_->cli({"settings", "set", "whatsapp.cloud.enabled", "true"}).first);
        while (host_->request("GET", "/test/chain").body.find("\"state\":\"disabled\"") != std::string::npos &&
               std::chrono::steady_clock::now() < deadline + std::chrono::seconds(30))
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const auto again = send(*host_, templateJson("\"phone\":\"+213555123456\""));
        waitFor(*db_, "SELECT status, provider FROM whatsapp_messages WHERE id = " + std::to_string(again->getValue<Poco::Int64>("message_id")),
                "sent|cloud_api");
    }

    void successfulTestConnectionClearsTheUnhealthyState() {
        seedTemplate("rappel", "fr", "Bonjour {{first_name}}.");
        fake_->script({GraphReply::metaError(403, 368, "Temporarily blocked for policies violations")});
        const auto first = send(*host_, templateJson("\"phone\":\"+213555123456\""));
        waitFor(*db_, "SELECT provider FROM whatsapp_messages WHERE id = " + std::to_string(first->getValue<Poco::Int64>("message_id")), "outbox");
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|368|1"), queryRows(*db_, "SELECT source, code, resolved_at IS NULL FROM whatsapp_alerts"));
        // The admin's "test connection": the Graph API answers, the provider is healthy again.
        const auto check = host_->request("POST", "/test/test-connection/cloud_api");
        CPPUNIT_ASSERT_EQUAL(std::string("{\"reason\":\"\",\"state\":\"healthy\"}"), check.body);
        const auto probe = fake_->requests().back();
        CPPUNIT_ASSERT_EQUAL(std::string("GET"), probe.method);
        CPPUNIT_ASSERT_EQUAL(std::string("/v21.0/" + kPhoneNumberId + "?fields=id"), probe.path);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db_, "SELECT COUNT(*) FROM whatsapp_alerts WHERE resolved_at IS NULL"));
        const auto second = send(*host_, templateJson("\"phone\":\"+213555123456\""));
        waitFor(*db_, "SELECT status, provider FROM whatsapp_messages WHERE id = " + std::to_string(second->getValue<Poco::Int64>("message_id")),
                "sent|cloud_api");
    }

    void missingTemplateVariableFailsWithTheReason() {
        seedTemplate("rappel", "fr", "Bonjour {{first_name}}, votre session {{programme}} commence.");
        // Meta holds the template with both variables and checks the count as it does.
        fake_->approveTemplate("rappel", "fr", {{"body", {"first_name", "programme"}}});
        const auto receipt = send(*host_, templateJson("\"phone\":\"+213555123456\""));
        const std::int64_t id = receipt->getValue<Poco::Int64>("message_id");
        waitFor(*db_, "SELECT status FROM whatsapp_messages WHERE id = " + std::to_string(id), "failed");
        CPPUNIT_ASSERT_EQUAL(std::string("cloud_api|1|refused|400|132000\noutbox|1|refused|0|0"), attempts(*db_, id));
        // The message keeps Meta's code and message (the refusal that says most), not nothing.
        CPPUNIT_ASSERT_EQUAL(std::string("132000|(#132000) Number of parameters does not match the expected number of params"),
                             queryRows(*db_, "SELECT error_code, error_title FROM whatsapp_messages WHERE id = " + std::to_string(id)));
        const std::string metaDetails = queryText(*db_, "SELECT error_details FROM whatsapp_message_attempts WHERE message_id = " +
                                                            std::to_string(id) + " AND provider = 'cloud_api'");
        CPPUNIT_ASSERT_MESSAGE(metaDetails, metaDetails.find("body: number of localizable_params (1) does not match the expected number of params (2)") !=
                                                std::string::npos);
        const std::string details = queryText(*db_, "SELECT error_details FROM whatsapp_messages WHERE id = " + std::to_string(id));
        CPPUNIT_ASSERT_MESSAGE(details, details.find("missing value for {{programme}}") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), queryText(*db_, "SELECT COUNT(*) FROM whatsapp_outbox_messages"));
    }

    void platformEventRunsAFlowIntoTheOutbox() {
        seedTemplate("bienvenue", "fr", "Bienvenue {{full_name}} ! Inscription « {{programme}} » confirmée. مرحبا بك");
        seedTemplate("rappel_j1", "fr", "Rappel : {{programme}} commence demain.");
        Poco::Data::Session session = db_->session();
        session << "INSERT INTO registrations (full_name, phone, programme, created_at) VALUES ('Amina Benali', '0555 12 34 56', 'Comptabilité', 1)", now;
        session << "INSERT INTO whatsapp_flows (name, trigger_event, active, created_at, updated_at) VALUES ('accueil', 'registration.confirmed', 1, 1, 1)", now;
        session << "INSERT INTO whatsapp_flow_steps (flow_id, position, template_name, language, delay_seconds) VALUES "
                   "(1, 1, 'bienvenue', 'fr', 0), (1, 2, 'rappel_j1', 'fr', 86400)", now;
        const std::string registration = queryText(*db_, "SELECT id FROM registrations");
        const std::string event = "{\"topic\":\"platform.event\",\"data\":{\"type\":\"registration.confirmed\",\"data\":{\"registration_id\":" +
                                  registration + "}}}";
        CPPUNIT_ASSERT_EQUAL(200, host_->request("POST", "/test/publish", event).status);
        waitFor(*db_, "SELECT COUNT(*) FROM whatsapp_outbox_messages", "1");
        CPPUNIT_ASSERT_EQUAL(
            std::string("+213555123456|Bienvenue Amina Benali ! Inscription « Comptabilité » confirmée. مرحبا بك|"
                        "https://wa.me/213555123456?text=Bienvenue%20Amina%20Benali%20%21%20Inscription%20%C2%AB%20Comptabilit%C3%A9%20"
                        "%C2%BB%20confirm%C3%A9e.%20%D9%85%D8%B1%D8%AD%D8%A8%D8%A7%20%D8%A8%D9%83|pending|1|1"),
            queryRows(*db_, "SELECT recipient_phone, rendered_text, wa_me_link, status, flow_id, flow_step FROM whatsapp_outbox_messages"));
        // The second step waits a day as a delayed job; the same event again renders nothing twice.
        CPPUNIT_ASSERT_EQUAL(std::string("pending"), queryText(*db_, "SELECT status FROM jobs WHERE type = 'outbox_flow_step' AND payload LIKE '%\"position\":2%'"));
        CPPUNIT_ASSERT_EQUAL(200, host_->request("POST", "/test/publish", event).status);
        waitFor(*db_, "SELECT COUNT(*) FROM jobs WHERE type = 'outbox_flow_step' AND status = 'done'", "2");
        CPPUNIT_ASSERT_EQUAL(std::string("1"), queryText(*db_, "SELECT COUNT(*) FROM whatsapp_outbox_messages"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), fake_->requests().size());
    }

    // A template with Meta's header and buttons: a flow step's text has the header, the body and
    // each link, filled from the event's data, as the inbox's fallback lays them out.
    void flowStepRendersTheHeaderAndLinks() {
        seedTemplate("bienvenue", "fr", "Inscription « {{programme}} » confirmée.");
        Poco::Data::Session session = db_->session();
        session << "UPDATE whatsapp_templates SET header = 'Bienvenue {{full_name}}', buttons = "
                   "'[{\"type\":\"url\",\"text\":\"Programme\",\"url\":\"https://formation.example.dz/programmes\"},"
                   "{\"type\":\"quick_reply\",\"text\":\"Merci\"}]' WHERE name = 'bienvenue'", now;
        session << "INSERT INTO whatsapp_flows (name, trigger_event, active, created_at, updated_at) VALUES ('accueil', 'lead.welcome', 1, 1, 1)", now;
        session << "INSERT INTO whatsapp_flow_steps (flow_id, position, template_name, language, delay_seconds) VALUES (1, 1, 'bienvenue', 'fr', 0)", now;
        const std::string event = "{\"topic\":\"platform.event\",\"data\":{\"type\":\"lead.welcome\",\"data\":{\"phone\":\"0555 12 34 56\","
                                  "\"full_name\":\"Amina Benali\",\"programme\":\"Comptabilité\"}}}";
        CPPUNIT_ASSERT_EQUAL(200, host_->request("POST", "/test/publish", event).status);
        waitFor(*db_, "SELECT COUNT(*) FROM whatsapp_outbox_messages", "1");
        CPPUNIT_ASSERT_EQUAL(std::string("Bienvenue Amina Benali\n\nInscription « Comptabilité » confirmée.\nProgramme: https://formation.example.dz/programmes"),
                             queryText(*db_, "SELECT rendered_text FROM whatsapp_outbox_messages"));
    }

private:
    // A customer known only by a business-scoped user id (a username hides the phone) writes now;
    // returns the conversation id once processed.
    std::int64_t bsuidCustomerWrites(const std::string& bsuid, const std::string& wamid) {
        host::InboundText message;
        message.userId = bsuid;
        message.username = "amina.dz";
        message.name = "Amina";
        message.wamid = wamid;
        message.timestamp = nowSeconds();
        message.text = "Bonjour";
        CPPUNIT_ASSERT_EQUAL(200, postSigned(*host_, host::inboundTextBody(message)).status);
        waitForProcessing(*db_);
        return std::stoll(queryText(*db_, "SELECT conversation_id FROM whatsapp_messages WHERE wa_message_id = '" + wamid + "'"));
    }

    void seedTemplate(const std::string& name, const std::string& language, const std::string& body) {
        Poco::Data::Session session = db_->session();
        std::string n = name, l = language, b = body;
        session << "INSERT INTO whatsapp_templates (name, language, category, body, status, created_at, updated_at) "
                   "VALUES ($1, $2, 'utility', $3, 'active', 1, 1)", use(n), use(l), use(b), now;
    }

    std::unique_ptr<FakeGraphApi> fake_;
    std::unique_ptr<HostProcess> host_;
    std::unique_ptr<host::SqlDatabase> db_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(OutboundTest);
