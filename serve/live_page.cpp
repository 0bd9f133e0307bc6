#include "serve/live_page.h"

#include <utility>

#include <boost/asio/ip/address.hpp>

namespace neuroemu::serve {

LivePage::LivePage(Server& server, LiveLayout layout, LivePageOptions options)
    : view_(std::make_unique<LiveView>(std::move(layout), options.live)) {
    LiveView* view = view_.get();
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(options.host, ec);
    if (ec) throw std::runtime_error("--http: '" + options.host + "' is not an IP address");
    page_ = std::make_unique<PageServer>(server.io_context(), boost::asio::ip::tcp::endpoint(address, options.port),
                                         server.token(), [view] { return view->frame(); }, options.period,
                                         options.limits);
    page_->start();
    // Observers last: when the page cannot start, the server is left without observers pointing at this view.
    server.set_tick_observer([view](const TickResult& tick, const TickContext& context) {
        TickExtras extras;
        if (context.sample) extras.outcome = SampleOutcome{context.sample->decision, context.sample->label};
        extras.deadline_misses = context.deadline_misses;
        extras.tick = context.tick;
        view->record(tick, extras);
    });
    // A classify request's sample counts in the accuracy too (its ticks are not streamed ones).
    server.set_classify_observer(
        [view](const SampleEnd& sample) { view->record_outcome({sample.decision, sample.label}); });
}

LivePage::~LivePage() { page_->stop(); }

}  // namespace neuroemu::serve
