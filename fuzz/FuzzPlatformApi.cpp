// The platform API's request bodies (POST /api/v1/messages and /api/v1/events) as any client may
// send them. Input: one byte choosing the endpoint (even: messages, odd: events), then the body.
// A body is read or refused with an ApiError (4xx, a code, a field); any other exception would
// reach the server as a 500, so it stops the run, as does a refusal outside 400-499.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "whatsapp/PlatformRequests.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const bool messages = data[0] % 2 == 0;
    const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        const auto object = tawasul::host::parseObject(body);
        if (messages) {
            const auto send = tawasul::host::parseSend(*object);
            if (send.phone.empty() == (send.conversationId == 0)) {
                std::fprintf(stderr, "a send was read with neither or both of a phone and a conversation\n");
                std::abort();
            }
        } else {
            const auto event = tawasul::host::parseEvent(*object);
            if (event.type.empty() || event.data.empty() || event.data.front() != '{') {
                std::fprintf(stderr, "an event was read without a type or an object of data\n");
                std::abort();
            }
        }
    } catch (const tawasul::host::ApiError& error) {
        if (error.status < 400 || error.status > 499 || error.code.empty() || error.message.empty()) {
            std::fprintf(stderr, "a refusal with status %d, code '%s'\n", error.status, error.code.c_str());
            std::abort();
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "a request body threw outside ApiError (a 500): %s\n", error.what());
        std::abort();
    }
    return 0;
}
