#pragma once
// Message templates as Meta defines them: a text header, a body and buttons, whose texts hold
// variables, either all positional ({{1}}, {{2}}... counted per component) or all named
// ({{first_name}}: Meta's parameter_format NAMED). One grammar for everyone who reads a template:
// the outbox checks and renders it, the inbox asks for every variable, and both build the send's
// components from the same list, so the Cloud API and the wa.me fallback carry the same values.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tawasul/sdk/Api.hpp"
#include "tawasul/whatsapp/Messaging.hpp"

namespace tawasul::sdk {

class TAWASUL_SDK_API TemplateText {
public:
    // The variables of one text: balanced {{ }}, names [A-Za-z_][A-Za-z0-9_]* or numbers 1..n
    // without gaps, not both kinds. Returns the problem in words, or nullopt when the text is fine.
    static std::optional<std::string> check(const std::string& text);

    // The distinct variables in order of first appearance ("1", "2" or "first_name", ...).
    // Assumes a text that check() accepts.
    static std::vector<std::string> variables(const std::string& text);

    // Replaces every {{variable}} with its value. On a missing value returns nullopt and names
    // the missing variables in `error`.
    static std::optional<std::string> render(const std::string& text, const std::map<std::string, std::string>& values,
                                             std::string& error);
};

// A button of a template: a quick reply (no variable: Meta sends its payload back) or a link whose
// address may end in a variable ("https://example.dz/suivi/{{1}}").
struct TemplateButton {
    std::string type;  // "quick_reply" or "url"
    std::string text;
    std::string url;   // "url" buttons
};

struct TAWASUL_SDK_API TemplateDefinition {
    std::string header;  // text header, may be empty
    std::string body;
    std::vector<TemplateButton> buttons;

    // Buttons as stored: [{"type":"url","text":"Suivi","url":"https://.../{{1}}"},{"type":"quick_reply","text":"Oui"}].
    // Anything that is not such an array reads as no buttons; entries without a known type are skipped.
    static std::vector<TemplateButton> buttonsFromJson(const std::string& json);
    static std::string buttonsToJson(const std::vector<TemplateButton>& buttons);

    // Whether the template's variables are named (Meta's parameter_format NAMED) or positional.
    bool named() const;
    // The problem of a whole template in words (a part's text, kinds mixed across parts, more
    // than one variable in the header or in a button's address), or nullopt.
    std::optional<std::string> check() const;
};

// One value a send of the template needs.
struct TAWASUL_SDK_API TemplateField {
    std::string component;  // "header", "body" or "button"
    int index = 0;          // the button's position, from 0 (0 for header and body)
    std::string variable;   // "1" or "first_name"
    bool named = false;

    // The form's name for it: "header:1", "body:first_name", "button0:1".
    std::string key() const;
};

// Every variable of the template in the order Meta reads them: header, body, then buttons.
TAWASUL_SDK_API std::vector<TemplateField> templateFields(const TemplateDefinition& definition);

// The send's components from values keyed by TemplateField::key(). A value that is missing or
// blank is listed in `missing` (by key) and no components are returned. Named variables carry
// parameter_name; a URL button's value is the part of the address it fills.
TAWASUL_SDK_API std::vector<TemplateComponent> templateComponents(const TemplateDefinition& definition,
                                                                  const std::map<std::string, std::string>& values,
                                                                  std::vector<std::string>& missing);

// The filled text for a person to send by hand (the outbox's wa.me link): the header, a blank line,
// the body, then each link button as "text: address". Values come from components as the Cloud
// API would get them; a missing one returns nullopt with the reason in `error`.
TAWASUL_SDK_API std::optional<std::string> renderTemplate(const TemplateDefinition& definition,
                                                          const std::vector<TemplateComponent>& components, std::string& error);

// The statuses of Meta's review that still let a template be sent: APPROVED, FLAGGED (its quality is
// low; Meta pauses it later if nothing improves) and REINSTATED (approved again after a pause). A
// template Meta never reviewed has no status: it is local, sent by hand through the Outbox.
inline bool sendableAtMeta(const std::string& status) {
    return status == "APPROVED" || status == "FLAGGED" || status == "REINSTATED";
}

// Whether Meta lets a template be sent, as far as its owner knows (Meta's review reaches it through
// the message_template_status_update webhook and `tawasul templates sync`). Published by the plugin
// that keeps the templates (the outbox) under kServiceName; the dispatcher asks it before it queues
// a template, so that a send Meta would refuse (132001, 132015) is refused at once, with the reason.
class TAWASUL_SDK_API TemplateApproval {
public:
    static constexpr const char* kServiceName = "templates";
    virtual ~TemplateApproval();
    // Why the template cannot be sent through the Cloud API ("rejected by Meta: INVALID_FORMAT",
    // "paused by Meta"), or nullopt when Meta approved it or never reviewed it (a local template,
    // sent by hand through the Outbox).
    virtual std::optional<std::string> refusal(const std::string& name, const std::string& language) = 0;
};

// A template as Meta holds it (GET /{waba-id}/message_templates).
struct MetaTemplate {
    std::string id, name, language;
    std::string status;    // APPROVED, PENDING, REJECTED, PAUSED, DISABLED, ...
    std::string category;  // MARKETING, UTILITY, AUTHENTICATION
    std::string quality;   // GREEN, YELLOW, RED, UNKNOWN; "" when Meta gave none
    std::string rejectedReason;
    TemplateDefinition definition;           // its text header, body, link and quick-reply buttons
    std::optional<std::string> unsupported;  // a part Tawasul cannot send (a media header, an OTP button), in words
};

// A template to submit to Meta for review, with an example for each variable (Meta's reviewers read
// them; a template without them is refused).
struct TemplateSubmission {
    std::string name, language;
    std::string category;  // utility, marketing, authentication
    TemplateDefinition definition;
    std::map<std::string, std::string> examples;  // by TemplateField::key(): "body:first_name", "button0:1"
};

// Meta's answer to a submission: the template's id and where its review starts (PENDING, or
// APPROVED at once for some utility templates).
struct SubmittedTemplate {
    std::string id, status, category;
};

// Reads the business account's templates from Meta, and submits new ones. Published by a provider
// that can (cloud_api) under its own name.
class TAWASUL_SDK_API TemplateSource {
public:
    virtual ~TemplateSource();
    // Every template, all pages. Throws std::runtime_error with the reason (not configured, Meta's
    // error) when they cannot be read.
    virtual std::vector<MetaTemplate> metaTemplates() = 0;
    // POST /{waba-id}/message_templates. Throws std::runtime_error with Meta's reason when refused.
    virtual SubmittedTemplate submit(const TemplateSubmission& submission) = 0;
};

struct TemplateSyncReport {
    std::size_t fromMeta = 0, added = 0, updated = 0, deleted = 0;
    std::vector<std::string> skipped;  // "name (language): why"
};

// Brings Meta's templates into the ones Tawasul keeps: `tawasul templates sync` and the templates
// page. Published by the plugin that keeps them (the outbox) under kServiceName.
class TAWASUL_SDK_API TemplateSync {
public:
    static constexpr const char* kServiceName = "templates";
    virtual ~TemplateSync();
    // Throws std::runtime_error with the reason when Meta's list cannot be read; nothing is then written.
    virtual TemplateSyncReport sync() = 0;
};

}  // namespace tawasul::sdk
