#pragma once
// Reading Meta's template list, without the network: GET /{waba-id}/message_templates answers pages
//   {"data": [{"id", "name", "language", "status", "category", "quality_score": {"score"},
//              "rejected_reason", "components": [...]}, ...],
//    "paging": {"cursors": {"before", "after"}, "next": "https://graph.facebook.com/..."}}
// and each page is read here into sdk::MetaTemplate. Kept apart from the plugin so unit tests check it.
#include <optional>
#include <string>
#include <vector>

#include "tawasul/whatsapp/Templates.hpp"

namespace tawasul::plugins::cloud_api {

struct TemplatePage {
    std::vector<sdk::MetaTemplate> templates;
    std::optional<std::string> after;  // the cursor of the next page; none on the last
};

// Throws std::runtime_error when the body is not such a page.
TemplatePage readTemplatePage(const std::string& body);

// The request path of a page (after the API version): "/{waba}/message_templates?fields=...&limit=N[&after=C]".
std::string templatePagePath(const std::string& businessAccountId, std::size_t limit, const std::optional<std::string>& after);

// The body of POST /{waba}/message_templates for a submission: parameter_format, the text header,
// body and buttons, each variable's example as Meta asks for it (named: *_named_params; positional:
// header_text / body_text; a link's whole address). Throws std::invalid_argument naming the first
// variable without an example.
std::string templateCreationBody(const sdk::TemplateSubmission& submission);

// Meta's answer to it: {"id", "status", "category"}. Throws std::runtime_error when it is not one.
sdk::SubmittedTemplate readSubmittedTemplate(const std::string& body);

}  // namespace tawasul::plugins::cloud_api
