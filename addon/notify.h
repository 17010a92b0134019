#pragma once
#include <string>

// Sends <message> to the systemd notification socket <path>; returns 0 or an errno.
int notify_send(const std::string& path, const std::string& message);
