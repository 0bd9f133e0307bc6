// The live page wired into `neuroemu serve`: a LiveView fed by the server's tick and classify observers (engine
// thread) and a PageServer on the server's io_context, with the server's token (docs/serve.md, "The live page").
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "serve/live.h"
#include "serve/page_server.h"
#include "serve/server.h"

namespace neuroemu::serve {

struct LivePageOptions {
    std::string host = "127.0.0.1";              // the page's address (the CLI passes the --listen host)
    uint16_t port = 0;                           // 0: any free port, read back with port()
    std::chrono::milliseconds period{100};       // a frame every this long while a browser watches
    LiveOptions live;
    PageLimits limits;
};

class LivePage {
public:
    // Before server.start(): binds the page's port (std::runtime_error naming it when it cannot), then sets the
    // server's observers. `layout`: live_layout() of the session the server starts with. The server must have
    // stopped (its engine thread joined) before a LivePage goes: its observers use the LiveView.
    LivePage(Server& server, LiveLayout layout, LivePageOptions options = {});
    ~LivePage();
    LivePage(const LivePage&) = delete;
    LivePage& operator=(const LivePage&) = delete;

    uint16_t port() const { return page_->port(); }
    // Stops the page server; the server's observers must not run any more (after server.stop() / wait()).
    void stop() { page_->stop(); }
    LiveView& view() { return *view_; }
    PageStats stats() const { return page_->stats(); }

private:
    std::unique_ptr<LiveView> view_;
    std::unique_ptr<PageServer> page_;
};

}  // namespace neuroemu::serve
