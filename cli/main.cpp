// neuroemu: ResNet -> spiking ResNet -> neuromorphic chip. See docs/cli.md.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/schema.h"
#include "common/error.h"

namespace {

// Only main turns errors into exit codes (docs/cli.md).
template <class F>
int exit_code_of(F run) {
    try {
        return run();
    } catch (const neuroemu::ConfigError& e) {
        fmt::print(stderr, "neuroemu: error: {}\n", e.what());
        return 2;
    } catch (const neuroemu::InternalError& e) {
        fmt::print(stderr, "neuroemu: internal error (please report): {}\n", e.what());
        return 70;
    } catch (const neuroemu::Error& e) {
        fmt::print(stderr, "neuroemu: error: {}\n", e.what());
        return 1;
    } catch (const std::bad_alloc&) {
        fmt::print(stderr, "neuroemu: error: out of memory\n");
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"neuroemu: convert a ResNet into a spiking ResNet, map it onto ROLLS-style neuromorphic cores, "
                 "simulate it and report accuracy, speed and energy."};
    app.require_subcommand(0, 1);
    bool config_reference = false;
    app.add_flag("--config-reference", config_reference, "print the configuration reference (docs/config.md)");

    neuroemu::CommonOptions common;
    const std::vector<neuroemu::Command> commands = {
        neuroemu::add_info_command(app, common),     neuroemu::add_list_command(app, common),
        neuroemu::add_evaluate_command(app, common),
        neuroemu::add_convert_command(app, common),  neuroemu::add_map_command(app, common),
        neuroemu::add_simulate_command(app, common), neuroemu::add_report_command(app, common),
        neuroemu::add_noc_command(app, common),      neuroemu::add_explore_command(app, common),
        neuroemu::add_explore_point_command(app, common)};
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    return exit_code_of([&] {
        if (config_reference) {
            std::cout << neuroemu::neuroemu_schema().markdown();
            return 0;
        }
        for (const auto& command : commands)
            if (command.app->parsed()) return command.run();
        std::cout << app.help();
        return 0;
    });
}
