// `tawasul simulate verify|inbound|status|post`: a developer's local stand-in for Meta. Builds
// Meta-shaped webhook bodies, signs them with the configured app secret, and posts them to a
// running host, exactly as Meta would.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "app/Runtime.hpp"
#include "cli/Cli.hpp"
#include "tawasul/whatsapp/Phones.hpp"
#include "whatsapp/MetaPayloads.hpp"
#include "tawasul/sdk/Crypto.hpp"
#include "tawasul/whatsapp/Webhooks.hpp"

namespace tawasul::host {
namespace {

constexpr const char* kUsage =
    "tawasul simulate verify | inbound --from PHONE|--user-id BSUID --text TEXT | status --wamid ID --status S | "
    "echo --to PHONE --text TEXT | template-status --name N --language L --status S | account-alert --event E | post FILE";
constexpr const char* kDefaultWebhookPath = "/webhooks/whatsapp";
constexpr const char* kDefaultRecipient = "213555000000";
constexpr std::int64_t kDefaultErrorCode = 131026;

struct SimulateRequest {
    std::string action;  // verify, inbound, status, post
    std::optional<std::string> url;
    // inbound
    std::string from, text, name;  // no --name: no profile, so a contact's known name is kept
    std::string userId, username;  // a user with a username: the BSUID, maybe without a phone
    std::optional<std::string> wamid, phoneNumberId;
    // status
    std::string status, to = kDefaultRecipient;
    std::optional<std::int64_t> errorCode;
    std::string errorTitle;
    // template-status
    std::string templateName, templateLanguage, reason;
    // account-alert
    std::string event, restriction, banState;
    std::int64_t expiration = 0;
    // post
    std::string file;
    std::optional<std::string> signature;
};

Poco::URI parseUrl(const std::string& text) {
    Poco::URI uri;
    try {
        uri = Poco::URI(text);
    } catch (const Poco::Exception& error) {
        throw UsageError("simulate: --url '" + text + "' is not a URL: " + error.message());
    }
    if (uri.getScheme() != "http" || uri.getHost().empty())
        throw UsageError("simulate: --url must be an http:// URL such as http://127.0.0.1:8080/webhooks/whatsapp, got '" + text + "'");
    return uri;
}

// A phone as Meta writes a wa_id: the E.164 digits without '+'. "0555 12 34 56", "00213555123456"
// and "+213 555 12 34 56" are one person, so they must become one wa_id (and one contact).
std::string waIdOf(const std::string& option, const std::string& phone) {
    static const sdk::PhoneNormalizer normalizer("DZ");
    const auto e164 = normalizer.toE164(phone);
    if (!e164)
        throw UsageError("simulate: " + option + " must be a phone number such as 0555 12 34 56 or +213555123456, got '" + phone + "'");
    return e164->substr(1);
}

// Meta's event and type names: upper-case letters, digits and '_'.
void requireMetaWord(const std::string& where, const std::string& option, const std::string& word) {
    const bool plain = !word.empty() && word.size() <= 64 &&
                       word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == std::string::npos;
    if (!plain) throw UsageError(where + ": " + option + " must be one of Meta's upper-case names such as APPROVED, got '" + word + "'");
}

// A business-scoped user id as Meta writes one: a two-letter country code, a period, then up to
// 128 letters and digits (a parent BSUID has "ENT." after the country: "US.ENT.1181...").
bool isBsuid(const std::string& text) {
    const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
    if (text.size() < 4 || text.size() > 2 + 1 + 4 + 128 || !upper(text[0]) || !upper(text[1]) || text[2] != '.') return false;
    std::string rest = text.substr(3);
    if (rest.rfind("ENT.", 0) == 0) rest = rest.substr(4);
    return !rest.empty() && rest.size() <= 128 &&
           std::all_of(rest.begin(), rest.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

void requireUtf8(const std::string& option, const std::string& text) {
    try {
        (void)metaJsonEscape(text);
    } catch (const std::invalid_argument& error) {
        throw UsageError("simulate: " + option + " is " + error.what());
    }
}

SimulateRequest parseSimulate(const std::vector<std::string>& args) {
    if (args.empty()) throw UsageError("usage: " + std::string(kUsage));
    SimulateRequest request;
    request.action = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    const std::string where = "simulate " + request.action;
    auto need = [&](const Arguments& parsed, const std::string& name, const std::string& usage) {
        const auto value = parsed.value(name);
        if (!value || value->empty()) throw UsageError(where + ": " + name + " is required (usage: " + usage + ")");
        return *value;
    };
    std::optional<Arguments> parsed;
    if (request.action == "verify") {
        parsed.emplace(where, rest, std::vector<std::string>{"--url"}, std::vector<std::string>{});
        parsed->expectPositional(0, 0, "tawasul simulate verify [--url URL]");
    } else if (request.action == "inbound") {
        const std::string usage = "tawasul simulate inbound --from PHONE|--user-id BSUID --text TEXT [--name NAME] [--username NAME] "
                                  "[--wamid ID] [--phone-number-id ID]";
        parsed.emplace(where, rest,
                       std::vector<std::string>{"--url", "--from", "--user-id", "--username", "--text", "--name", "--wamid", "--phone-number-id"},
                       std::vector<std::string>{});
        parsed->expectPositional(0, 0, usage);
        // A user with a username may come with only a BSUID: --user-id alone is a sender too.
        const auto from = parsed->value("--from"), userId = parsed->value("--user-id"), username = parsed->value("--username");
        if ((!from || from->empty()) && (!userId || userId->empty()))
            throw UsageError(where + ": --from or --user-id is required (usage: " + usage + ")");
        if (from) request.from = waIdOf("--from", need(*parsed, "--from", usage));
        if (userId) {
            request.userId = need(*parsed, "--user-id", usage);
            if (!isBsuid(request.userId))
                throw UsageError(where + ": --user-id must be a business-scoped user id such as DZ.13491208655302741918, got '" +
                                 request.userId + "'");
        }
        if (username) {
            if (!userId) throw UsageError(where + ": --username goes with --user-id (Meta sends a username with the user's BSUID)");
            request.username = need(*parsed, "--username", usage);
            requireUtf8("--username", request.username);
        }
        request.text = need(*parsed, "--text", usage);
        requireUtf8("--text", request.text);
        if (const auto name = parsed->value("--name")) request.name = *name;
        requireUtf8("--name", request.name);
        request.wamid = parsed->value("--wamid");
        if (request.wamid && request.wamid->empty()) throw UsageError(where + ": --wamid must not be empty");
        request.phoneNumberId = parsed->value("--phone-number-id");
        if (request.phoneNumberId && (request.phoneNumberId->empty() || phoneDigits(*request.phoneNumberId) != *request.phoneNumberId))
            throw UsageError(where + ": --phone-number-id must be digits, got '" + *request.phoneNumberId + "'");
    } else if (request.action == "status") {
        const std::string usage = "tawasul simulate status --wamid ID --status sent|delivered|read|failed [--to PHONE] "
                                  "[--error-code N --error-title T]";
        parsed.emplace(where, rest, std::vector<std::string>{"--url", "--wamid", "--status", "--to", "--error-code", "--error-title"},
                       std::vector<std::string>{});
        parsed->expectPositional(0, 0, usage);
        request.wamid = need(*parsed, "--wamid", usage);
        requireUtf8("--wamid", *request.wamid);
        request.status = need(*parsed, "--status", usage);
        if (request.status != "sent" && request.status != "delivered" && request.status != "read" && request.status != "failed")
            throw UsageError(where + ": --status must be sent, delivered, read or failed, got '" + request.status + "'");
        if (const auto to = parsed->value("--to")) request.to = waIdOf("--to", *to);
        const bool errorGiven = parsed->value("--error-code") || parsed->value("--error-title");
        if (errorGiven && request.status != "failed") throw UsageError(where + ": --error-code and --error-title go with --status failed");
        if (request.status == "failed") {
            request.errorCode = parsed->number("--error-code", kDefaultErrorCode, 1, 999999999);
            request.errorTitle = parsed->value("--error-title").value_or(parsed->value("--error-code") ? "Simulated failure"
                                                                                                       : "Message undeliverable");
            requireUtf8("--error-title", request.errorTitle);
        }
    } else if (request.action == "echo") {
        const std::string usage = "tawasul simulate echo --to PHONE --text TEXT [--wamid ID] [--phone-number-id ID]";
        parsed.emplace(where, rest, std::vector<std::string>{"--url", "--to", "--text", "--wamid", "--phone-number-id"},
                       std::vector<std::string>{});
        parsed->expectPositional(0, 0, usage);
        request.to = waIdOf("--to", need(*parsed, "--to", usage));
        request.text = need(*parsed, "--text", usage);
        requireUtf8("--text", request.text);
        request.wamid = parsed->value("--wamid");
        if (request.wamid && request.wamid->empty()) throw UsageError(where + ": --wamid must not be empty");
        request.phoneNumberId = parsed->value("--phone-number-id");
        if (request.phoneNumberId && (request.phoneNumberId->empty() || phoneDigits(*request.phoneNumberId) != *request.phoneNumberId))
            throw UsageError(where + ": --phone-number-id must be digits, got '" + *request.phoneNumberId + "'");
    } else if (request.action == "template-status") {
        const std::string usage = "tawasul simulate template-status --name NAME --language CODE --status APPROVED|REJECTED|PAUSED|... "
                                  "[--reason TEXT]";
        parsed.emplace(where, rest, std::vector<std::string>{"--url", "--name", "--language", "--status", "--reason"},
                       std::vector<std::string>{});
        parsed->expectPositional(0, 0, usage);
        request.templateName = need(*parsed, "--name", usage);
        request.templateLanguage = need(*parsed, "--language", usage);
        request.status = need(*parsed, "--status", usage);
        requireMetaWord(where, "--status", request.status);
        request.reason = parsed->value("--reason").value_or("");
        requireUtf8("--name", request.templateName);
        requireUtf8("--language", request.templateLanguage);
        requireUtf8("--reason", request.reason);
    } else if (request.action == "account-alert") {
        const std::string usage = "tawasul simulate account-alert --event ACCOUNT_RESTRICTION [--restriction TYPE [--expires UNIX_SECONDS]] "
                                  "| --event DISABLED_UPDATE --ban-state DISABLE|REINSTATE|SCHEDULE_FOR_DISABLE";
        parsed.emplace(where, rest, std::vector<std::string>{"--url", "--event", "--restriction", "--expires", "--ban-state"},
                       std::vector<std::string>{});
        parsed->expectPositional(0, 0, usage);
        request.event = need(*parsed, "--event", usage);
        requireMetaWord(where, "--event", request.event);
        request.restriction = parsed->value("--restriction").value_or("");
        request.banState = parsed->value("--ban-state").value_or("");
        if (!request.restriction.empty()) requireMetaWord(where, "--restriction", request.restriction);
        if (!request.banState.empty()) requireMetaWord(where, "--ban-state", request.banState);
        if (parsed->value("--expires")) {
            if (request.restriction.empty()) throw UsageError(where + ": --expires goes with --restriction");
            request.expiration = parsed->number("--expires", 0, 1, 253402300799);
        }
        if (request.event == "ACCOUNT_RESTRICTION" && !request.banState.empty())
            throw UsageError(where + ": --ban-state goes with --event DISABLED_UPDATE, not ACCOUNT_RESTRICTION");
        if (request.event == "DISABLED_UPDATE" && request.banState.empty())
            throw UsageError(where + ": --event DISABLED_UPDATE needs --ban-state (usage: " + usage + ")");
        if (request.event != "ACCOUNT_RESTRICTION" && !request.restriction.empty())
            throw UsageError(where + ": --restriction goes with --event ACCOUNT_RESTRICTION");
    } else if (request.action == "post") {
        parsed.emplace(where, rest, std::vector<std::string>{"--url", "--signature"}, std::vector<std::string>{});
        parsed->expectPositional(1, 1, "tawasul simulate post FILE [--signature SIG]");
        request.file = parsed->positional()[0];
        request.signature = parsed->value("--signature");
    } else {
        throw UsageError("usage: " + std::string(kUsage));
    }
    request.url = parsed->value("--url");
    if (request.url) (void)parseUrl(*request.url);
    return request;
}

// server.listen and the webhook_receiver's `path`, unless --url says otherwise.
Poco::URI targetUrl(const HostConfig& config, const SimulateRequest& request) {
    if (request.url) return parseUrl(*request.url);
    std::string path = kDefaultWebhookPath;
    for (const PluginEntry& entry : config.plugins)
        if (entry.name == "webhook_receiver") path = entry.config.getString("path", kDefaultWebhookPath);
    std::string host = config.server.host;
    // A wildcard listen address is not a place to connect to; the host answers on loopback too.
    if (host == "0.0.0.0" || host == "*" || host.empty()) host = "127.0.0.1";
    if (host == "::" || host == "[::]") host = "::1";
    if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
    if (config.server.port == 0)
        throw UsageError("simulate: server.listen has port 0 (the host picks one when it starts): give --url http://HOST:PORT" + path);
    try {
        return Poco::URI("http://" + host + ":" + std::to_string(config.server.port) + path);
    } catch (const Poco::Exception& error) {
        throw UsageError("simulate: no webhook URL from server.listen and the receiver's path: " + error.message() + " (give --url)");
    }
}

std::string displayUrl(const Poco::URI& uri) { return uri.getScheme() + "://" + uri.getAuthority() + uri.getPath(); }

struct HttpReply {
    int status = 0;
    std::string reason;
    std::string body;
};

HttpReply exchange(const Poco::URI& uri, const std::string& method, const std::string& body,
                   const std::vector<std::pair<std::string, std::string>>& headers) {
    try {
        Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
        session.setTimeout(Poco::Timespan(30, 0));
        const std::string target = uri.getPathAndQuery().empty() ? "/" : uri.getPathAndQuery();
        Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
        request.set("User-Agent", "tawasul-simulate");
        for (const auto& [name, value] : headers) request.set(name, value);
        if (method == "POST") {
            request.setContentType("application/json");
            request.setContentLength64(static_cast<Poco::Int64>(body.size()));
        }
        std::ostream& out = session.sendRequest(request);
        out.write(body.data(), static_cast<std::streamsize>(body.size()));
        Poco::Net::HTTPResponse response;
        std::istream& in = session.receiveResponse(response);
        HttpReply reply;
        reply.status = response.getStatus();
        reply.reason = response.getReason();
        Poco::StreamCopier::copyToString(in, reply.body);
        return reply;
    } catch (const Poco::Exception& error) {
        throw std::runtime_error("cannot " + method + " " + displayUrl(uri) + ": " + error.displayText());
    }
}

// Prints the answer as the operator wants to see it; exit 0 only for Meta's success, a 200.
int report(const HttpReply& reply) {
    std::cout << "HTTP " << reply.status << " " << reply.reason << "\n";
    if (!reply.body.empty()) std::cout << reply.body << (reply.body.back() == '\n' ? "" : "\n");
    return reply.status == 200 ? kExitOk : kExitFailure;
}

std::string appSecret(SettingsStore& settings) {
    const auto secret = settings.get("whatsapp.cloud.app_secret");
    if (!secret || secret->empty())
        throw std::runtime_error("no app secret to sign with: run `tawasul settings set whatsapp.cloud.app_secret --stdin`");
    return *secret;
}

MetaBusiness business(SettingsStore& settings, const SimulateRequest& request) {
    MetaBusiness business;
    if (const auto id = settings.get("whatsapp.cloud.business_account_id")) business.businessAccountId = *id;
    if (const auto id = settings.get("whatsapp.cloud.phone_number_id")) business.phoneNumberId = *id;
    if (request.phoneNumberId) business.phoneNumberId = *request.phoneNumberId;
    return business;
}

std::int64_t nowSeconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int verify(SettingsStore& settings, Poco::URI uri) {
    const auto token = settings.get("whatsapp.webhook.verify_token");
    if (!token || token->empty())
        throw std::runtime_error("no verify token configured: run `tawasul settings set whatsapp.webhook.verify_token --stdin`");
    // Meta's challenge is a random number; any string must come back unchanged.
    const std::string challenge = std::to_string(std::stoul(sdk::randomHex(4), nullptr, 16));
    const std::string where = displayUrl(uri);
    uri.addQueryParameter("hub.mode", "subscribe");
    uri.addQueryParameter("hub.verify_token", *token);
    uri.addQueryParameter("hub.challenge", challenge);
    const HttpReply reply = exchange(uri, "GET", "", {});
    if (reply.status != 200) {
        std::string body = reply.body.substr(0, 200);
        for (char& c : body)
            if (c == '\n' || c == '\r') c = ' ';
        throw std::runtime_error("verification failed: " + where + " answered HTTP " + std::to_string(reply.status) + " " +
                                 reply.reason + (body.empty() ? "" : ": " + body));
    }
    if (reply.body != challenge)
        throw std::runtime_error("verification failed: " + where + " answered 200 but not with the challenge (sent " + challenge +
                                 ", got '" + reply.body.substr(0, 100) + "')");
    std::cout << "ok: " << where << " answered the verification challenge\n";
    return kExitOk;
}

std::string readBody(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + file + ": " + std::strerror(errno));
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

int runSimulate(const HostConfig& config, const std::vector<std::string>& args) {
    const SimulateRequest request = parseSimulate(args);
    const Poco::URI uri = targetUrl(config, request);
    std::string body;
    if (request.action == "post") body = readBody(request.file);
    if (request.action == "post" && request.signature)  // a fixture's own .sig: no secret needed
        return report(exchange(uri, "POST", body, {{sdk::kSignatureHeader, *request.signature}}));

    Runtime runtime(config);
    runtime.openSecrets(false);
    SettingsStore& settings = runtime.settings();
    settings.verifyMasterKey();
    if (request.action == "verify") return verify(settings, uri);
    const std::string secret = appSecret(settings);
    if (request.action == "inbound") {
        InboundText message;
        message.business = business(settings, request);
        message.from = request.from;
        message.userId = request.userId;
        message.username = request.username;
        message.name = request.name;
        message.wamid = request.wamid.value_or("wamid.SIM" + Poco::toUpper(sdk::randomHex(16)));
        message.timestamp = nowSeconds();
        message.text = request.text;
        body = inboundTextBody(message);
        const HttpReply reply = exchange(uri, "POST", body, {{sdk::kSignatureHeader, sdk::webhookSignature(body, secret)}});
        std::cout << "message " << message.wamid << "\n";
        return report(reply);
    } else if (request.action == "status") {
        StatusUpdate update;
        update.business = business(settings, request);
        update.wamid = *request.wamid;
        update.status = request.status;
        update.recipientId = request.to;
        update.timestamp = nowSeconds();
        update.errorCode = request.errorCode;
        update.errorTitle = request.errorTitle;
        body = statusBody(update);
    } else if (request.action == "echo") {
        MessageEcho echo;
        echo.business = business(settings, request);
        echo.to = request.to;
        echo.wamid = request.wamid.value_or("wamid.SIM" + Poco::toUpper(sdk::randomHex(16)));
        echo.timestamp = nowSeconds();
        echo.text = request.text;
        body = messageEchoBody(echo);
        std::cout << "echo " << echo.wamid << "\n";
    } else if (request.action == "template-status") {
        TemplateStatusUpdate update;
        update.business = business(settings, request);
        update.name = request.templateName;
        update.language = request.templateLanguage;
        update.event = request.status;
        update.reason = request.reason;
        update.templateId = static_cast<std::int64_t>(std::hash<std::string>{}(update.name + "|" + update.language) % 1000000000000);
        update.time = nowSeconds();
        body = templateStatusBody(update);
    } else if (request.action == "account-alert") {
        AccountUpdate update;
        update.business = business(settings, request);
        update.event = request.event;
        update.restrictionType = request.restriction;
        update.expiration = request.expiration;
        update.banState = request.banState;
        update.time = nowSeconds();
        body = accountUpdateBody(update);
    }
    return report(exchange(uri, "POST", body, {{sdk::kSignatureHeader, sdk::webhookSignature(body, secret)}}));
}

}  // namespace

Command simulateCommand() {
    return {"simulate", "post signed Meta-shaped webhooks to a running host (simulate verify|inbound|status|echo|template-status|account-alert|post)",
            "usage: tawasul [--config FILE] simulate verify [--url URL]\n"
            "       tawasul [--config FILE] simulate inbound --from PHONE|--user-id BSUID --text TEXT [--name NAME]\n"
            "                                                [--username NAME] [--wamid ID] [--phone-number-id ID] [--url URL]\n"
            "       tawasul [--config FILE] simulate status --wamid ID --status sent|delivered|read|failed\n"
            "                                               [--to PHONE] [--error-code N --error-title T] [--url URL]\n"
            "       tawasul [--config FILE] simulate echo --to PHONE --text TEXT [--wamid ID] [--phone-number-id ID]\n"
            "                                             [--url URL]\n"
            "       tawasul [--config FILE] simulate template-status --name NAME --language CODE --status S\n"
            "                                                        [--reason TEXT] [--url URL]\n"
            "       tawasul [--config FILE] simulate account-alert --event E [--restriction TYPE [--expires T]]\n"
            "                                                      [--ban-state S] [--url URL]\n"
            "       tawasul [--config FILE] simulate post FILE [--signature SIG] [--url URL]\n\n"
            "A local stand-in for Meta: builds webhook bodies the way Meta does (non-ASCII as \\uXXXX, '/'\n"
            "as '\\/'), signs them with X-Hub-Signature-256 using the app secret from the settings\n"
            "(whatsapp.cloud.app_secret), and posts them to a running host. The target is --url, or\n"
            "http://<server.listen><path of the webhook_receiver entry, default /webhooks/whatsapp>.\n\n"
            "verify   the GET handshake with whatsapp.webhook.verify_token and a random challenge; checks\n"
            "         that the challenge comes back.\n"
            "inbound  one text message from PHONE, written as Meta writes a wa_id (E.164 digits; national\n"
            "         forms such as 0555 12 34 56 are Algerian). --user-id adds the sender's business-scoped\n"
            "         user id (user_id / from_user_id); with it --from may be left out, as Meta leaves out\n"
            "         the phone of a user with a username, and --username sets profile.username.\n"
            "         --name sets the profile name; without it (and --username) the body has no profile\n"
            "         and the contact keeps the name it has. The wamid defaults\n"
            "         to wamid.SIM<random hex> and is printed; phone_number_id and the account id come from\n"
            "         the settings when set.\n"
            "status   a status for an outbound message; failed carries errors[] (default code 131026).\n"
            "         The recipient defaults to " + std::string(kDefaultRecipient) + ".\n"
            "echo     a message the business sent from the WhatsApp Business app (smb_message_echoes) to\n"
            "         PHONE: an outbound message of the timeline, provider business_app.\n"
            "template-status  Meta's review of a template (message_template_status_update): S is APPROVED,\n"
            "         REJECTED, PAUSED, DISABLED, ... as Meta spells it; --reason is Meta's reason.\n"
            "account-alert  an account_update: --event ACCOUNT_RESTRICTION with --restriction TYPE (e.g.\n"
            "         RESTRICTED_CUSTOMER_INITIATED_MESSAGING) and its end --expires (Unix seconds), or none\n"
            "         to lift them; --event DISABLED_UPDATE with --ban-state DISABLE, REINSTATE or\n"
            "         SCHEDULE_FOR_DISABLE.\n"
            "post     the bytes of FILE exactly; --signature SIG sends SIG instead of signing (e.g. a\n"
            "         fixture's .sig file).\n\n"
            "Prints the HTTP status and the response body; exits 0 on a 200, 1 otherwise.\n",
            [](const std::vector<std::string>& args) { (void)parseSimulate(args); }, runSimulate};
}

}  // namespace tawasul::host
