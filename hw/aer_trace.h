// AER packet traces (traces/README.md has the file format): every packet the hardware model injects, written by
// `neuroemu simulate --aer-out FILE` and read back by `--aer-in FILE`, which drives the chip from the file instead of
// the functional engine. Plain C++ (no SystemC): the chip model calls the writer, the reader hands it whole images.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mapping/mapping.h"
#include "sim/snn_engine.h"

struct gzFile_s;

namespace neuroemu {

constexpr uint16_t kAerVersion = 1;
constexpr size_t kAerHeaderBytes = 40;
constexpr size_t kAerTrailerBytes = 21;  // end marker, ticks, packets, CRC-32
constexpr uint16_t kAerFlagTree = 1;  // recorded with chip.noc.multicast: tree

// One packet as recorded.
struct AerRecord {
    int64_t tick = 0;       // global time step from 0: image x steps + step - 1
    int64_t cycle = 0;      // clock cycle the packet entered its source router (from the start of the run)
    int32_t source = 0;     // source core; Mapping::cores.size() for the host
    int32_t layer = -1;     // source layer (MapGraph index); -1 for the host
    int32_t c = 0, y = 0, x = 0;  // source unit in its layer (host: input pixel)
    int32_t dest = -1;      // destination core of a unicast packet; -1 for a multicast packet
};

struct AerHeader {
    uint16_t version = kAerVersion;
    uint16_t flags = 0;
    uint32_t cores = 0, layers = 0, steps = 0;
    uint64_t partition = 0;  // partition_fingerprint() of the recording mapping
    uint64_t placement = 0;  // placement_fingerprint()
};

// Identify a mapping: layers, shapes and the slices of every core (the replay needs the same), and the core
// positions on the mesh (a different placement replays, but with other timing).
uint64_t partition_fingerprint(const Mapping& mapping);
uint64_t placement_fingerprint(const Mapping& mapping);

// Writes a trace; a path ending in ".gz" is gzip-compressed. Records must come in injection order (by cycle); the
// records of one cycle are written by source (a source injects at most one packet per cycle), so that the file
// does not depend on the order in which SystemC runs the cores within a cycle.
class AerWriter {
public:
    AerWriter(const std::string& path, const Mapping& mapping);  // throws DataError when the file cannot be created
    ~AerWriter();  // removes the partial trace when close() was not called: the final name appears only whole
    AerWriter(const AerWriter&) = delete;
    AerWriter& operator=(const AerWriter&) = delete;

    // The header; once, before the first record.
    void begin(int64_t steps_per_image);
    bool begun() const { return begun_; }
    int64_t steps() const { return header_.steps; }
    void write(const AerRecord& r);
    // The end marker and the totals; `ticks`: ticks simulated (a multiple of the steps per image).
    void close(int64_t ticks);
    const std::string& path() const { return path_; }
    int64_t packets() const { return packets_; }

private:
    void encode(const AerRecord& r);
    void drain();
    void flush();
    std::string path_, temp_path_;  // written under temp_path_, renamed to path_ by close()
    gzFile_s* file_ = nullptr;
    AerHeader header_;
    bool begun_ = false, closed_ = false;
    std::string buf_;
    std::vector<AerRecord> cycle_records_;  // the records of the latest cycle, not yet encoded
    std::vector<int64_t> height_, width_;  // per source layer + 1 (0: the host's image)
    unsigned long crc_ = 0;                // CRC-32 of the bytes written so far
    int64_t packets_ = 0, last_tick_ = 0, last_cycle_ = 0;
};

// One event of a recorded image and the source that sent it.
struct SourcedEvent {
    int32_t source = 0;
    SpikeEvent e;
};

// The events of one image read back from a trace (ChipModel::replay): per step, what each source sent, grouped by
// source (cores in index order, the host last) and in the order the source sent them. A unicast event recorded as
// one packet per destination is one event here; the chip sends it again to the destinations of its mapping.
struct RecordedImage {
    int64_t steps = 0;
    int64_t image = 0;  // 0-based, in the file
    std::vector<std::vector<SourcedEvent>> events;  // [step - 1]
    int64_t packets = 0;  // records read for this image
};

struct AerSummary {
    int64_t images = 0, ticks = 0, packets = 0, events = 0;
};

class AerReader {
public:
    // Opens `path` (plain or gzip) and reads its header. Throws DataError naming the file.
    explicit AerReader(const std::string& path);
    ~AerReader();
    AerReader(const AerReader&) = delete;
    AerReader& operator=(const AerReader&) = delete;

    const AerHeader& header() const { return header_; }
    bool recorded_with_tree() const { return header_.flags & kAerFlagTree; }

    // Checks the header against `m` and reads every record, checking it against `m`; then rewinds to the first
    // record. Throws DataError naming the file, the record (from 1) and its byte offset (in the uncompressed
    // stream). `m` must outlive the reader.
    AerSummary scan(const Mapping& mapping);
    // After scan(): the next image's events; false after the last image.
    bool next_image(RecordedImage& out);

private:
    void read_header();
    bool next(AerRecord& r);  // false at the end marker (the trailer is then checked)
    void check(const AerRecord& r);
    [[noreturn]] void fail(const std::string& what) const;
    [[noreturn]] void fail_record(const std::string& what) const;
    bool fill();
    int read_byte();
    uint64_t read_varint(const char* field);

    std::string path_;
    gzFile_s* file_ = nullptr;
    AerHeader header_;
    const Mapping* m_ = nullptr;
    std::vector<char> buf_;
    size_t pos_ = 0, end_ = 0;
    unsigned long crc_ = 0;      // CRC-32 of the bytes before buf_[crc_from_]
    size_t crc_from_ = 0;
    int64_t offset_ = 0;         // bytes consumed
    int64_t record_ = 0;         // records read (the current one while decoding)
    int64_t record_offset_ = 0;  // byte offset of the current record
    int64_t tick_ = 0, cycle_ = 0;
    bool done_ = false;
    AerSummary summary_;
    // next_image(): a record read ahead, and per source the last event (to fold unicast copies).
    bool have_pending_ = false;
    AerRecord pending_;
    int64_t image_ = 0;
    struct Last {
        int64_t tick = -1;
        int32_t layer = 0, c = 0, y = 0, x = 0, dest = -1;
    };
    std::vector<Last> last_;
    bool copy_of_last(const AerRecord& r);
};

}  // namespace neuroemu
