// neuroemu: ResNet -> spiking ResNet -> neuromorphic chip. See docs/cli.md.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/schema.h"
#include "common/error.h"
#include "mpi/world.h"

namespace {

// Only main turns errors into exit codes (docs/cli.md). Under mpirun a failing rank ends every rank (mpi::abort):
// the others may be waiting for it in a collective.
template <class F>
int exit_code_of(F run) {
    namespace mpi = neuroemu::mpi;
    int code = 0;
    try {
        return run();
    } catch (const neuroemu::ConfigError& e) {
        fmt::print(stderr, "neuroemu: {}error: {}\n", mpi::where(), e.what());
        code = 2;
    } catch (const neuroemu::InternalError& e) {
        fmt::print(stderr, "neuroemu: {}internal error (please report): {}\n", mpi::where(), e.what());
        code = 70;
    } catch (const neuroemu::Error& e) {
        fmt::print(stderr, "neuroemu: {}error: {}\n", mpi::where(), e.what());
        code = 1;
    } catch (const std::bad_alloc&) {
        fmt::print(stderr, "neuroemu: {}error: out of memory\n", mpi::where());
        code = 1;
    }
    if (mpi::distributed()) mpi::abort(code);
    return code;
}

// Under mpirun: a command that shares its work runs on every rank; any other runs on rank 0 alone. explore-point
// never joins the MPI job: explore's ranks start it as a child process of their own.
int run_command(const neuroemu::Command& command, int& argc, char**& argv) {
    namespace mpi = neuroemu::mpi;
    if (command.app->get_name() != "explore-point") mpi::init(argc, argv);
    if (!command.distributed && mpi::distributed()) {
        if (!mpi::root()) {
            mpi::finalize();
            return 0;
        }
        fmt::print(stderr, "neuroemu: {} runs on rank 0 only; the other {} rank(s) have nothing to do (docs/cli.md)\n",
                   command.app->get_name(), mpi::size() - 1);
    }
    const int code = exit_code_of(command.run);
    mpi::finalize();
    return code;
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
        neuroemu::add_convert_command(app, common),  neuroemu::add_export_command(app, common),
        neuroemu::add_map_command(app, common),
        neuroemu::add_simulate_command(app, common), neuroemu::add_report_command(app, common),
        neuroemu::add_noc_command(app, common),      neuroemu::add_explore_command(app, common),
        neuroemu::add_explore_point_command(app, common), neuroemu::add_serve_command(app, common)};
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    for (const auto& command : commands)
        if (command.app->parsed()) return run_command(command, argc, argv);
    return exit_code_of([&] {
        if (config_reference)
            std::cout << neuroemu::neuroemu_schema().markdown();
        else
            std::cout << app.help();
        return 0;
    });
}
