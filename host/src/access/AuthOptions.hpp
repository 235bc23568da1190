#pragma once
// How sign-in and sessions behave: the `auth:` section of the configuration as Auth uses it
// (HostConfig reads it into this struct; secureCookie follows server.public_url).
#include <string>

namespace tawasul::host {

struct AuthOptions {
    int idleMinutes = 120;          // a session unused this long ends
    int absoluteHours = 12;         // a session ends this long after sign-in, used or not
    int maxFailures = 5;            // sign-in attempts per account, and per address, within the window
    int failureWindowMinutes = 15;  // ... before further attempts get 429 (a success gives its attempt back)
    int maxWaitingChecks = 16;      // sign-ins that may wait for a password-hashing slot; more get 429 at once
    bool secureCookie = false;      // server.public_url is https
    // argon2id cost: "moderate" (libsodium's MODERATE: 3 passes, 256 MiB) or "interactive"
    // (2 passes, 64 MiB). Applies to new hashes; a stored hash keeps the cost it was made with.
    std::string passwordCost = "moderate";
};

}  // namespace tawasul::host
