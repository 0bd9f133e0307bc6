// The CLI's subcommands: each declares its options, calls the library (experiment/ and the stages) and prints.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace neuroemu {

// Each adds its subcommand to `app`, sharing the common options (one command runs per invocation).
Command add_info_command(CLI::App& app, CommonOptions& common);
// `list`: the registered families and implementations (cli/list.cpp).
Command add_list_command(CLI::App& app, CommonOptions& common);
Command add_evaluate_command(CLI::App& app, CommonOptions& common);
Command add_convert_command(CLI::App& app, CommonOptions& common);
// `export`: any loaded network as a NIR file (cli/export.cpp).
Command add_export_command(CLI::App& app, CommonOptions& common);
Command add_map_command(CLI::App& app, CommonOptions& common);
Command add_simulate_command(CLI::App& app, CommonOptions& common);
Command add_report_command(CLI::App& app, CommonOptions& common);
Command add_noc_command(CLI::App& app, CommonOptions& common);
Command add_explore_command(CLI::App& app, CommonOptions& common);
// `serve`: the model as an emulated chip on the network (cli/serve.cpp, docs/serve.md).
Command add_serve_command(CLI::App& app, CommonOptions& common);
// `explore-point`, hidden: one point of a sweep in its own process (experiment::run_point), run by explore.
Command add_explore_point_command(CLI::App& app, CommonOptions& common);

}  // namespace neuroemu
