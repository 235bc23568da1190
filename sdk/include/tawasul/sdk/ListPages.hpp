#pragma once
// Admin list pages, newest first, a page at a time by id: `?before=ID` shows the rows older than
// ID ("keyset" pages, the same cost on page 1 and page 1000), with optional equality filters from
// the query string that the page links keep. One way to write every list:
//
//   sdk::KeysetList list("SELECT id, level, message FROM whatsapp_logs", kPageSize);
//   if (!list.readBefore(request)) { /* ?before= is not an id: say so, answer 400 */ }
//   list.filter("level", level);
//   Poco::Data::Statement select(session);
//   list.prepare(select);
//   select, into(ids), into(levels), into(messages);
//   select.execute();
//   const bool more = list.trim(ids);
//   list.setLinks(model, kLogsPagesPath, ids, more);
#include <cstdint>
#include <string>
#include <vector>

#include <Poco/Data/Statement.h>
#include <Poco/JSON/Object.h>
#include <Poco/URI.h>

#include "tawasul/sdk/Forms.hpp"
#include "tawasul/sdk/Http.hpp"

namespace tawasul::sdk {

// Percent-encodes a query-string value: every byte but letters, digits and - . _ ~.
inline std::string queryValue(const std::string& text) {
    std::string out;
    Poco::URI::encode(text, "!#$&'()*+,/:;=?@[]", out);
    return out;
}

// https://wa.me/<digits>?text=<text>: a message for a person to send by hand from their own
// WhatsApp; the phone's digits only, the text percent-encoded as queryValue does.
inline std::string waMeLink(const std::string& phone, const std::string& text) {
    std::string digits;
    for (char c : phone)
        if (c >= '0' && c <= '9') digits += c;
    return "https://wa.me/" + digits + "?text=" + queryValue(text);
}

class KeysetList {
public:
    // `select`: "SELECT id, ... FROM table", with no WHERE; the list is ordered by id.
    KeysetList(std::string select, int pageSize) : select_(std::move(select)), limit_(pageSize + 1), pageSize_(pageSize) {}

    // Reads ?before=. False when it is given but is not a positive id; the list then starts at the
    // newest row.
    bool readBefore(const HttpRequest& request) {
        const auto text = request.queryParam("before");
        if (!text || text->empty()) return true;
        before_ = positiveId(*text);
        return before_ > 0;
    }
    Poco::Int64 before() const { return before_; }

    // Keeps the rows whose `column` equals `value`, unless value is empty. The column's name is
    // also the query parameter that carries the filter in the page links.
    void filter(const std::string& column, const std::string& value) {
        if (!value.empty()) filters_.push_back({column, value});
    }

    // Gives `statement` its SQL and binds the values; add the into()s, then execute(). The
    // statement binds this object's members: keep it alive until then.
    void prepare(Poco::Data::Statement& statement) {
        using Poco::Data::Keywords::use;
        std::string sql = select_ + " WHERE 1 = 1";
        int n = 0;
        for (const Filter& filter : filters_) sql += " AND " + filter.column + " = $" + std::to_string(++n);
        if (before_ > 0) sql += " AND id < $" + std::to_string(++n);
        sql += " ORDER BY id DESC LIMIT $" + std::to_string(++n);
        statement << sql;
        for (Filter& filter : filters_) statement, use(filter.value);
        if (before_ > 0) statement, use(before_);
        statement, use(limit_);
    }

    // After execute(): drops the one row more than a page, which only tells that an older page
    // exists. True when it does. (The other columns may keep that row; loop over the ids.)
    bool trim(std::vector<Poco::Int64>& ids) const {
        if (ids.size() <= static_cast<std::size_t>(pageSize_)) return false;
        ids.resize(static_cast<std::size_t>(pageSize_));
        return true;
    }

    // older_url (when `more`) and newest_url (when this is not the first page), filters kept.
    void setLinks(Poco::JSON::Object& model, const std::string& path, const std::vector<Poco::Int64>& ids, bool more) const {
        std::string query;
        for (const Filter& filter : filters_) query += "&" + filter.column + "=" + queryValue(filter.value);
        if (more && !ids.empty()) model.set("older_url", path + "?before=" + std::to_string(ids.back()) + query);
        if (before_ > 0) model.set("newest_url", path + (query.empty() ? "" : "?" + query.substr(1)));
    }

private:
    struct Filter {
        std::string column;
        std::string value;
    };
    std::string select_;
    std::vector<Filter> filters_;  // bound by reference in prepare(): not changed after
    Poco::Int64 before_ = 0;
    Poco::Int64 limit_;
    int pageSize_;
};

}  // namespace tawasul::sdk
