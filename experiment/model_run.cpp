#include "experiment/model_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "common/progress.h"
#include "data/dataset_spec.h"
#include "data/image_stream.h"
#include "mpi/pack.h"
#include "model/model_spec.h"
#include "mpi/world.h"
#include "sim/batch_statistics.h"
#include "sim/sim_spec.h"

namespace neuroemu::experiment {

nir::ImportOptions nir_import_options(const Settings& settings) {
    nir::ImportOptions options;
    options.dt_s = settings.get_real("model.nir_dt_s");
    options.discretisation =
        settings.get_string("model.nir_discretisation") == "exact" ? Discretisation::Exact : Discretisation::Euler;
    const std::string& reset = settings.get_string("model.nir_reset");
    options.override_reset = reset != "nir";
    options.reset = reset == "subtract" ? ResetMode::Subtract : reset == "zero" ? ResetMode::Zero : ResetMode::ToValue;
    return options;
}

SnnModel load_nir_model(const Settings& settings) {
    const std::string path = settings.get_path("model.nir");
    if (!std::filesystem::is_regular_file(path))
        throw ConfigError(fmt::format("{}: model.nir: no such file '{}'", settings.where("model.nir"), path));
    return nir::import_nir(path, nir_import_options(settings));
}

SnnModel spiking_model(const Settings& settings, const std::string& snn_file, bool calibrate, int verbosity) {
    if (!snn_file.empty()) return load_snn(snn_file);
    if (nir_model(settings)) return load_nir_model(settings);
    if (calibrate) {
        Network folded;
        ConversionReport report;
        return convert_from_settings(settings, load_network(settings), folded, report, verbosity);
    }
    ConversionOptions options = conversion_options(settings);
    options.normalise = false;  // the structure is all a mapping with estimated rates needs
    return build_snn(fold_batchnorm(load_model(settings)), Calibration{}, options);
}

SnnModel snn_for_run(const Settings& settings, const Network& net, const std::string& snn_file, Network& folded,
                     ConversionReport& report, int verbosity) {
    if (!snn_file.empty()) {
        folded = fold_batchnorm(net);
        return load_snn(snn_file);
    }
    SnnModel model = convert_from_settings(settings, net, folded, report, verbosity);
    if (verbosity > 0) print_compensation(report);
    return model;
}

void print_compensation(const ConversionReport& report) {
    if (!report.compensated) return;
    if (report.fit.ok)
        fmt::print("propagation error fit Ē = p·q^l over {} layers: p = {:.6f}, q = {:.4f}, adjusted R² = {:.4f}\n",
                   report.fit.depth.size(), report.fit.p, report.fit.q, report.fit.adj_r2);
    else
        fmt::print("propagation error fit: fewer than three layers with positive error; searching around q = 1\n");
    std::string tried;
    bool errors = false;
    for (const auto& trial : report.search.trials) {
        tried += fmt::format(" {:.3f}:{:.2f}%", trial.zeta, 100.0 * trial.accuracy);
        if (trial.error >= 0) tried += fmt::format(":{:.5f}", trial.error), errors = true;
    }
    fmt::print("ζ trials (ζ:accuracy{}):{}\nchosen ζ = {:.4f} (τ_max = {:.3f})\n", errors ? "[:propagation error]" : "",
               tried, report.search.best, report.search.tau_max);
}

InputSummary for_each_test_chunk(const Settings& settings, const std::vector<int64_t>& model_input, int64_t count,
                                 const std::function<void(const ImageSet&)>& consume, Shard shard,
                                 int64_t chunk_bytes) {
    const auto source = open_dataset(settings, Split::Test, model_input, count);
    InputSummary input;
    input.images = std::min(count, source->count());
    input.channels = source->channels();
    input.labelled = source->labelled();
    const int64_t image_bytes = std::max<int64_t>(1, source->channels() * source->height() * source->width());
    const mpi::Block block = shard == Shard::Rank ? mpi::my_block(input.images) : mpi::Block{0, input.images};
    int64_t pixel_sum = 0;  // an integer: the same total however the images are split
    ImageStream stream(*source, block.first, block.size(), std::max<int64_t>(1, chunk_bytes / image_bytes));
    for (ImageSet chunk; stream.next(chunk);) {
        chunk.labelled = input.labelled;
        for (uint8_t p : chunk.pixels) pixel_sum += p;
        consume(chunk);
    }
    if (shard == Shard::Rank) pixel_sum = mpi::all_sum(pixel_sum);
    input.mean_pixel =
        input.images ? static_cast<double>(pixel_sum) / 255.0 / static_cast<double>(input.images * image_bytes) : 0.0;
    return input;
}

namespace {

void pack(mpi::Packer& out, const SnnResult& r) {
    out.put(r.images).put(r.steps).put(r.correct_at_step).put(r.ann_correct).put(r.sops).put(r.spikes);
    out.put(r.input_macs).put(r.labelled).put(r.workers).put(r.worker_state_bytes).put(r.weight_bytes).put(r.seconds);
    out.put(static_cast<uint64_t>(r.populations.size()));
    for (const PopulationStats& p : r.populations) {
        out.put(p.name).put(p.kind).put(p.neurons).put(p.units).put(p.spikes).put(p.sops_in).put(p.sops_out);
        out.put(p.firing_rate).put(p.max_rate).put(p.has_error);
        for (const ExactSum* e : {&p.local_error_sum, &p.accumulated_error_sum, &p.accumulated_error_max_neuron_sum,
                                  &p.rate_error_abs_sum})
            out.put(e->fixed());
    }
    out.put(static_cast<uint64_t>(r.projections.size()));
    for (const ProjectionStats& p : r.projections) out.put(p.name).put(p.source).put(p.target).put(p.synapses).put(p.sops);
}

SnnResult unpack(mpi::Unpacker& in) {
    SnnResult r;
    in.get(r.images), in.get(r.steps), in.get(r.correct_at_step), in.get(r.ann_correct), in.get(r.sops);
    in.get(r.spikes), in.get(r.input_macs), in.get(r.labelled), in.get(r.workers), in.get(r.worker_state_bytes);
    in.get(r.weight_bytes), in.get(r.seconds);
    r.populations.resize(in.get<uint64_t>());
    for (PopulationStats& p : r.populations) {
        in.get(p.name), in.get(p.kind), in.get(p.neurons), in.get(p.units), in.get(p.spikes), in.get(p.sops_in);
        in.get(p.sops_out), in.get(p.firing_rate), in.get(p.max_rate), in.get(p.has_error);
        for (ExactSum* e : {&p.local_error_sum, &p.accumulated_error_sum, &p.accumulated_error_max_neuron_sum,
                            &p.rate_error_abs_sum})
            *e = ExactSum::from_fixed(in.get<__int128>());
        if (p.has_error && r.images > 0) p.set_error_means(r.images);
    }
    r.projections.resize(in.get<uint64_t>());
    for (ProjectionStats& p : r.projections) in.get(p.name), in.get(p.source), in.get(p.target), in.get(p.synapses), in.get(p.sops);
    if (!in.done()) throw InternalError("mpi: an SnnResult message has bytes left over");
    return r;
}

}  // namespace

SnnResult merge_over_ranks(const SnnResult& mine) {
    if (!mpi::distributed()) return mine;
    mpi::Packer packer;
    pack(packer, mine);
    SnnResult total;
    double slowest_s = 0;
    for (const std::string& bytes : mpi::all_gather(packer.take())) {
        mpi::Unpacker in(bytes);
        const SnnResult part = unpack(in);
        slowest_s = std::max(slowest_s, part.seconds);
        if (part.images > 0) accumulate(total, part);  // a rank with no images has no populations to add
    }
    total.seconds = slowest_s;
    return total;
}

FunctionalRun run_functional(const Settings& settings, const std::string& snn_file, int verbosity, Shard shard,
                             const std::function<void(const SnnModel&, SnnOptions&)>& configure) {
    FunctionalRun run;
    run.has_ann = !nir_model(settings);
    if (run.has_ann) {
        run.net = load_network(settings);
        run.model = snn_for_run(settings, run.net, snn_file, run.folded, run.conversion, verbosity);
    } else {
        run.model = snn_file.empty() ? load_nir_model(settings) : load_snn(snn_file);
    }
    run.options = snn_options(settings);
    if (configure) configure(run.model, run.options);
    const SnnEngine engine(run.model);
    const int64_t images = settings.get_int("dataset.images");
    Progress progress("snn", shard == Shard::Rank ? mpi::my_block(images).size() : images,
                      verbosity > 0 && Progress::stderr_is_terminal());
    const Network* ann = run.has_ann && settings.get_bool("simulation.compare_ann") ? &run.folded : nullptr;
    SnnResult mine;
    run.input = for_each_test_chunk(settings, run.model.populations.at(0).shape, images, [&](const ImageSet& chunk) {
        // The engine's probe_image counts within the set it is given: only the chunk holding the probed image
        // (run.options.probe_image, an index in the dataset) records, at its position there.
        const int64_t local = run.options.probe_image - chunk.first;
        SnnOptions options = run.options;
        if (local < 0 || local >= chunk.count) options.probes.clear();
        options.probe_image = local;
        SnnResult part = engine.evaluate(chunk, input_normalisation(settings, chunk.channels), options, &progress, ann);
        const bool probed = part.probe.image >= 0 && !part.probe.probes.empty();
        ProbeTrace probe = probed ? std::move(part.probe) : ProbeTrace{};
        accumulate(mine, part);
        if (probed) mine.probe = std::move(probe), mine.probe.image = run.options.probe_image;
    }, shard);
    run.result = shard == Shard::Rank ? merge_over_ranks(mine) : std::move(mine);
    return run;
}

namespace {

// `part`'s images follow `total`'s.
void add_ann_part(AnnResult& total, const AnnResult& part) {
    total.labelled = total.images ? total.labelled && part.labelled : part.labelled;
    total.images += part.images;
    total.correct += part.correct;
    total.seconds += part.seconds;
    total.logits.insert(total.logits.end(), part.logits.begin(), part.logits.end());
}

// As for SnnResult: counts summed, logits in rank (= image) order, the slowest rank's seconds.
AnnResult merge_over_ranks(const AnnResult& mine) {
    if (!mpi::distributed()) return mine;
    mpi::Packer packer;
    packer.put(mine.images).put(mine.correct).put(mine.seconds).put(mine.labelled).put(mine.logits);
    AnnResult total;
    double slowest_s = 0;
    for (const std::string& bytes : mpi::all_gather(packer.take())) {
        mpi::Unpacker in(bytes);
        AnnResult part;
        in.get(part.images), in.get(part.correct), in.get(part.seconds), in.get(part.labelled), in.get(part.logits);
        slowest_s = std::max(slowest_s, part.seconds);
        if (part.images > 0) add_ann_part(total, part);
    }
    total.seconds = slowest_s;
    return total;
}

}  // namespace

AnnRun run_ann(const Settings& settings, int verbosity, Shard shard) {
    AnnRun run;
    run.net = load_network(settings);
    run.options = ann_options(settings);
    const AnnEngine engine(run.net);
    const int64_t images = settings.get_int("dataset.images");
    Progress progress("ann", shard == Shard::Rank ? mpi::my_block(images).size() : images,
                      verbosity > 0 && Progress::stderr_is_terminal());
    AnnResult mine;
    run.input = for_each_test_chunk(settings, run.net.input_shape(), images, [&](const ImageSet& chunk) {
        add_ann_part(mine, engine.evaluate(chunk, input_normalisation(settings, chunk.channels), run.options, &progress));
    }, shard);
    run.result = shard == Shard::Rank ? merge_over_ranks(mine) : std::move(mine);
    return run;
}

}  // namespace neuroemu::experiment
