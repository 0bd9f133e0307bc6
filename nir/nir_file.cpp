#include "nir/nir_file.h"

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "common/error.h"
#include "common/file_io.h"

namespace neuroemu::nir {

const Node* Graph::find(const std::string& name) const {
    for (const Node& n : nodes)
        if (n.name == name) return &n;
    return nullptr;
}

namespace {

// One HDF5 handle, closed by its own close function when it goes out of scope (also on a throw).
class Hid {
public:
    Hid() = default;
    Hid(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
    Hid(Hid&& o) noexcept : id_(std::exchange(o.id_, -1)), close_(o.close_) {}
    Hid& operator=(Hid&& o) noexcept {
        if (this != &o) {
            reset();
            id_ = std::exchange(o.id_, -1);
            close_ = o.close_;
        }
        return *this;
    }
    Hid(const Hid&) = delete;
    Hid& operator=(const Hid&) = delete;
    ~Hid() { reset(); }
    hid_t get() const { return id_; }
    bool valid() const { return id_ >= 0; }
    void reset() {
        if (id_ >= 0 && close_ != nullptr) close_(id_);
        id_ = -1;
    }

private:
    hid_t id_ = -1;
    herr_t (*close_)(hid_t) = nullptr;
};

// Caps on what one string may hold (fixed-length strings declare their size in the file).
constexpr size_t kMaxStringBytes = size_t{1} << 20;

// HDF5 prints its error stack to stderr by default; every failure here becomes a ModelError instead.
void silence_hdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

// Frees the strings HDF5 allocated for a variable-length read (H5Dvlen_reclaim is deprecated from 1.12 on).
void reclaim_strings(hid_t mem_type, hid_t space, void* buffer) {
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(mem_type, space, H5P_DEFAULT, buffer);
#else
    H5Dvlen_reclaim(mem_type, space, H5P_DEFAULT, buffer);
#endif
}

std::string join_path(const std::string& parent, const std::string& name) {
    return parent == "/" ? "/" + name : parent + "/" + name;
}

// ---------------------------------------------------------------------------------------------- reading

class Reader {
public:
    Reader(std::string file, const ReadLimits& limits) : file_(std::move(file)), limits_(limits) {}

    [[noreturn]] void fail(const std::string& object, const std::string& what) const {
        throw ModelError(fmt::format("{}: {}: {}", file_, object, what));
    }

    File read() {
        raw_.reset(std::fopen(file_.c_str(), "rb"));
        if (!raw_) throw ModelError(fmt::format("cannot read {}: {}", file_, std::strerror(errno)));
        if (std::fseek(raw_.get(), 0, SEEK_END) != 0 || (file_size_ = std::ftell(raw_.get())) < 0)
            throw ModelError(fmt::format("cannot read {}: {}", file_, std::strerror(errno)));
        silence_hdf5();
        // A damaged file must never leave objects open: close everything with the file.
        Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
        if (!fapl.valid() || H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG) < 0)
            throw ModelError(fmt::format("{}: cannot set up the HDF5 library", file_));
        // H5Fopen already reads the root group's object header: the superblock and that header are checked first
        // (no superblock: H5Fopen refuses the file).
        if ((base_address_ = find_superblock()) >= 0) check_superblock();
        const int64_t found_at = base_address_;
        Hid f(H5Fopen(file_.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
        if (!f.valid()) fail("/", "not an HDF5 file (expected a NIR file: HDF5 with /version and /node)");
        {
            Hid fcpl(H5Fget_create_plist(f.get()), H5Pclose);
            hsize_t userblock = 0;
            if (!fcpl.valid() || H5Pget_userblock(fcpl.get(), &userblock) < 0 ||
                userblock > static_cast<hsize_t>(file_size_))
                fail("/", "cannot read the file's creation properties (damaged file?)");
            if (static_cast<int64_t>(userblock) != found_at)
                fail("/", fmt::format("HDF5 found the superblock at {}, not at {} (damaged file?)", userblock, found_at));
        }
        File out;
        require_link(f.get(), "/", "version", H5I_DATASET);
        {
            Hid d = open_dataset(f.get(), "version", "/version");
            out.version = read_string(d.get(), "/version");
        }
        require_link(f.get(), "/", "node", H5I_GROUP);
        Hid root(H5Gopen2(f.get(), "node", H5P_DEFAULT), H5Gclose);
        if (!root.valid()) fail("/node", "cannot open the group");
        out.root = read_node(root.get(), "/node", "", 0);
        return out;
    }

private:
    struct Link {
        std::string name;
        H5I_type_t kind;
    };

    struct RawLink {
        std::string name;
        bool hard = false;
        haddr_t address = HADDR_UNDEF;  // of the object header, when hard
    };

    static herr_t collect(hid_t, const char* name, const H5L_info_t* info, void* data) {
        auto* links = static_cast<std::vector<RawLink>*>(data);
        const bool hard = info->type == H5L_TYPE_HARD;
        links->push_back({name, hard, hard ? info->u.address : HADDR_UNDEF});
        return links->size() > (size_t{1} << 24) ? 1 : 0;  // stop: far beyond any limit
    }

    // The links of a group in name order (HDF5's and h5py's order), each with what it points to.
    std::vector<Link> links_of(hid_t group, const std::string& path) {
        std::vector<RawLink> raw;
        hsize_t index = 0;
        if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, collect, &raw) < 0)
            fail(path, "cannot list the group's members (damaged file?)");
        if (static_cast<int64_t>(raw.size()) > limits_.max_nodes)
            fail(path, fmt::format("more than {} members", limits_.max_nodes));
        std::vector<Link> links;
        for (const auto& [name, hard, address] : raw) {
            const std::string where = join_path(path, name);
            if (!hard) fail(where, "a soft or external link (expected a group or dataset)");
            check_object_header(address, where);
            Hid o(H5Oopen(group, name.c_str(), H5P_DEFAULT), H5Oclose);
            if (!o.valid()) fail(where, "cannot open the object (damaged file?)");
            const H5I_type_t kind = H5Iget_type(o.get());
            if (kind != H5I_GROUP && kind != H5I_DATASET) fail(where, "expected a group or a dataset");
            links.push_back({name, kind});
        }
        return links;
    }

    void require_link(hid_t loc, const std::string& parent, const char* name, H5I_type_t kind) {
        const std::string where = join_path(parent, name);
        const htri_t exists = H5Lexists(loc, name, H5P_DEFAULT);
        if (exists < 0) fail(where, "cannot look it up (damaged file?)");
        if (exists == 0)
            fail(where, kind == H5I_GROUP ? "missing (expected a group)" : "missing (expected a dataset)");
        H5L_info_t info;
        if (H5Lget_info(loc, name, &info, H5P_DEFAULT) < 0) fail(where, "cannot look it up (damaged file?)");
        if (info.type != H5L_TYPE_HARD) fail(where, "a soft or external link (expected a group or dataset)");
        check_object_header(info.u.address, where);
        Hid o(H5Oopen(loc, name, H5P_DEFAULT), H5Oclose);
        if (!o.valid()) fail(where, "cannot open the object (damaged file?)");
        if (H5Iget_type(o.get()) != kind) fail(where, kind == H5I_GROUP ? "expected a group" : "expected a dataset");
    }

    Hid open_dataset(hid_t loc, const std::string& name, const std::string& where) {
        Hid d(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose);
        if (!d.valid()) fail(where, "cannot open the dataset (damaged file?)");
        return d;
    }

    // The dataset's shape (empty: scalar), checked against the limits before anything is read.
    std::vector<int64_t> shape_of(hid_t dataset, const std::string& where, int64_t* count) {
        Hid space(H5Dget_space(dataset), H5Sclose);
        if (!space.valid()) fail(where, "cannot read the dataspace (damaged file?)");
        const H5S_class_t cls = H5Sget_simple_extent_type(space.get());
        std::vector<int64_t> shape;
        *count = 1;
        if (cls == H5S_SCALAR) return shape;
        if (cls != H5S_SIMPLE) fail(where, "a dataset without a value (null dataspace)");
        const int rank = H5Sget_simple_extent_ndims(space.get());
        if (rank < 0 || rank > H5S_MAX_RANK) fail(where, "cannot read the dataspace (damaged file?)");
        std::vector<hsize_t> dims(static_cast<size_t>(rank));
        if (H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
            fail(where, "cannot read the dataspace (damaged file?)");
        for (hsize_t d : dims) {
            if (d > static_cast<hsize_t>(limits_.max_values_per_dataset)) *count = limits_.max_values_per_dataset + 1;
            else if (*count <= limits_.max_values_per_dataset) *count *= static_cast<int64_t>(d);
            if (*count > limits_.max_values_per_dataset) *count = limits_.max_values_per_dataset + 1;
            shape.push_back(static_cast<int64_t>(std::min<hsize_t>(d, INT64_MAX)));
        }
        if (*count > limits_.max_values_per_dataset)
            fail(where, fmt::format("declares more than {} values (the limit of one dataset)",
                                    limits_.max_values_per_dataset));
        total_values_ += *count;
        if (total_values_ > limits_.max_total_values)
            fail(where, fmt::format("the file holds more than {} values in all (the limit)", limits_.max_total_values));
        return shape;
    }

    static std::string class_name(H5T_class_t c) {
        switch (c) {
        case H5T_INTEGER: return "an integer";
        case H5T_FLOAT: return "a floating-point";
        case H5T_STRING: return "a string";
        case H5T_COMPOUND: return "a compound";
        case H5T_REFERENCE: return "a reference";
        case H5T_OPAQUE: return "an opaque";
        case H5T_ENUM: return "an enum (e.g. bool)";
        case H5T_VLEN: return "a variable-length sequence";
        case H5T_ARRAY: return "an array";
        case H5T_BITFIELD: return "a bitfield";
        case H5T_TIME: return "a time";
        default: return "an unknown";
        }
    }

    H5T_class_t class_of(hid_t dataset, const std::string& where, Hid* type_out) {
        Hid type(H5Dget_type(dataset), H5Tclose);
        if (!type.valid()) fail(where, "cannot read the datatype (damaged file?)");
        const H5T_class_t c = H5Tget_class(type.get());
        if (c == H5T_NO_CLASS) fail(where, "cannot read the datatype (damaged file?)");
        *type_out = std::move(type);
        return c;
    }

    // Every string of a string dataset (variable or fixed length), `count` of them, in row-major order.
    std::vector<std::string> read_strings(hid_t dataset, hid_t file_type, int64_t count, const std::string& where) {
        std::vector<std::string> out;
        if (count == 0) return out;
        const htri_t variable = H5Tis_variable_str(file_type);
        if (variable < 0) fail(where, "cannot read the datatype (damaged file?)");
        const H5T_cset_t cset = H5Tget_cset(file_type);
        Hid mem(H5Tcopy(H5T_C_S1), H5Tclose);
        if (!mem.valid()) fail(where, "cannot set up a string type");
        if (cset >= 0) H5Tset_cset(mem.get(), cset);
        out.reserve(static_cast<size_t>(count));
        if (variable > 0) {
            // A string's characters are bytes; a damaged base type of another size sends HDF5's conversion
            // through memory it does not have.
            Hid base(H5Tget_super(file_type), H5Tclose);
            if (!base.valid() || H5Tget_size(base.get()) != 1)
                fail(where, "damaged variable-length string type (its characters are not bytes)");
            check_compact(dataset, 4 + offsets_bytes_ + 4, count, where);  // {length, heap address, index}
            check_vlen_strings(dataset, count, where);
            H5Tset_size(mem.get(), H5T_VARIABLE);
            std::vector<char*> buffer(static_cast<size_t>(count), nullptr);
            const herr_t status = H5Dread(dataset, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data());
            Hid space(H5Dget_space(dataset), H5Sclose);
            if (status >= 0)
                for (char* s : buffer) out.emplace_back(s == nullptr ? "" : s);
            if (space.valid()) reclaim_strings(mem.get(), space.get(), buffer.data());
            if (status < 0) fail(where, "cannot read the strings (damaged file?)");
            for (const std::string& s : out)
                if (s.size() > kMaxStringBytes) fail(where, "a string over 1 MiB");
            return out;
        }
        const size_t size = H5Tget_size(file_type);
        if (size == 0 || size > kMaxStringBytes) fail(where, "a fixed-length string of an unreasonable size");
        if (static_cast<double>(size) * static_cast<double>(count) > static_cast<double>(limits_.max_values_per_dataset))
            fail(where, "fixed-length strings over the limit of one dataset");
        check_compact(dataset, size, count, where);
        H5Tset_size(mem.get(), size);
        H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
        std::vector<char> buffer(size * static_cast<size_t>(count), '\0');
        if (H5Dread(dataset, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
            fail(where, "cannot read the strings (damaged file?)");
        for (int64_t i = 0; i < count; ++i) {
            const char* s = buffer.data() + static_cast<size_t>(i) * size;
            out.emplace_back(s, strnlen(s, size));
        }
        return out;
    }

    // HDF5 1.10 reads a compact dataset's values from the bytes its layout message holds without comparing their
    // number with what the values need (found by fuzz/nir_fuzz.cpp: a compact layout of 0 bytes for 14 strings made it
    // copy from a null pointer). The bytes stored must be `count` values of `value_bytes` each, as stored in the file.
    void check_compact(hid_t dataset, uint64_t value_bytes, int64_t count, const std::string& where) {
        Hid dcpl(H5Dget_create_plist(dataset), H5Pclose);
        if (!dcpl.valid()) fail(where, "cannot read the dataset's creation properties (damaged file?)");
        if (H5Pget_layout(dcpl.get()) != H5D_COMPACT) return;
        const uint64_t stored = H5Dget_storage_size(dataset);
        if (stored != value_bytes * static_cast<uint64_t>(count))
            fail(where, fmt::format("damaged compact dataset ({} bytes stored for {} values of {} bytes)", stored,
                                    count, value_bytes));
    }

    // Where HDF5 looks for the superblock (at 0, 512, 1024, 2048, ...): the first one's position, or -1.
    int64_t find_superblock() {
        for (int64_t at = 0; at <= file_size_ - 8; at = at == 0 ? 512 : at * 2) {
            char signature[8];
            if (read_raw(at, signature, sizeof signature) && std::memcmp(signature, "\x89HDF\r\n\x1a\n", 8) == 0)
                return at;
        }
        return -1;
    }

    // HDF5 takes every address relative to the superblock's base address, the checks below (check_vlen_strings,
    // check_object_header) relative to the superblock's position: they must agree, or a damaged base address sends
    // HDF5's unchecked global heap reads somewhere the checks never looked (found by fuzz/nir_fuzz.cpp). HDF5 file
    // format spec, "Superblock": versions 0 and 1 keep the base address at byte 24 and 28, versions 2 and 3 at
    // byte 12. Then the root group's object header, which H5Fopen reads: versions 0 and 1 keep its address in the
    // root's symbol table entry, after the base, free-space, end-of-file and driver addresses and the link name
    // offset; versions 2 and 3 after the base, extension and end-of-file addresses.
    void check_superblock() {
        uint8_t sb[96];
        if (!read_raw(base_address_, sb, sizeof sb) || std::memcmp(sb, "\x89HDF\r\n\x1a\n", 8) != 0)
            fail("/", "no HDF5 superblock after the user block (damaged file?)");
        const int version = sb[8];
        if (version > 3) fail("/", fmt::format("superblock version {} (expected 0 to 3)", version));
        const size_t offsets = version < 2 ? sb[13] : sb[9], at = version == 0 ? 24 : version == 1 ? 28 : 12;
        if (offsets != 2 && offsets != 4 && offsets != 8)
            fail("/", fmt::format("addresses of {} bytes in the superblock (expected 2, 4 or 8)", offsets));
        const size_t lengths = version < 2 ? sb[14] : sb[10];
        if (lengths != 2 && lengths != 4 && lengths != 8)
            fail("/", fmt::format("lengths of {} bytes in the superblock (expected 2, 4 or 8)", lengths));
        offsets_bytes_ = offsets, lengths_bytes_ = lengths;
        uint64_t base = 0;
        for (size_t i = offsets; i-- > 0;) base = (base << 8) | sb[at + i];
        if (base != static_cast<uint64_t>(base_address_))
            fail("/", fmt::format("the superblock's base address {} differs from its position {} (damaged file?)", base,
                                  base_address_));
        uint64_t root = 0;
        for (size_t i = offsets, r = at + (version < 2 ? 5 : 3) * offsets; i-- > 0;) root = (root << 8) | sb[r + i];
        check_object_header(root, "/");
    }

    // HDF5 1.10 allocates each chunk of an object header at the size the file states before reading it
    // (H5C_protect, also for the continuation chunks H5O_protect follows), so a damaged size asks malloc for up
    // to 2^64 bytes (found by fuzz/nir_fuzz.cpp: 17 GB). Every chunk is checked here from the file's bytes first
    // (HDF5 file format spec, "Object Header Prefix" and "Object Header Continuation Message"), and must lie
    // inside the file. Version 1: {version 1, reserved, uint16 messages, uint32 references, uint32 chunk size,
    // 4 reserved}, messages {uint16 type, uint16 size, flags, 3 reserved, data}. Version 2: {"OHDR", version 2,
    // flags, 4 times of 4 bytes with flag 0x20, two uint16 attribute phase changes with flag 0x10, the chunk size
    // in 1 << (flags & 3) bytes}, messages {type, uint16 size, flags, uint16 order with flag 0x04, data}, each
    // chunk ending in a checksum and continuation chunks starting with "OCHK". Continuation (type 0x10) data:
    // the chunk's address and size.
    void check_object_header(haddr_t address, const std::string& where) {
        const auto damaged = [&](const std::string& what) { fail(where, "damaged object header (" + what + ")"); };
        const auto room = static_cast<uint64_t>(file_size_ - base_address_);
        if (address == HADDR_UNDEF || address >= room) damaged("its address lies beyond the end of the file");
        uint8_t h[32] = {};
        read_raw(base_address_ + static_cast<int64_t>(address), h, static_cast<size_t>(std::min<uint64_t>(sizeof h, room - address)));
        const bool v2 = std::memcmp(h, "OHDR", 4) == 0 && h[4] == 2;
        if (!v2 && h[0] != 1) damaged("neither version 1 nor 2 where the link points");
        const uint8_t flags = v2 ? h[5] : 0;
        const size_t size_bytes = v2 ? size_t{1} << (flags & 3) : 4;
        const size_t at_size = v2 ? 6 + ((flags & 0x20) ? 16 : 0) + ((flags & 0x10) ? 4 : 0) : 8;
        const uint64_t chunk0 = little(h + at_size, size_bytes), prefix = v2 ? at_size + size_bytes : 16;
        // Each chunk as HDF5 loads it (address, bytes) and where its messages lie in it (offset, bytes).
        struct Chunk {
            uint64_t address, bytes, offset, messages;
        };
        std::vector<Chunk> chunks{{address, chunk0 + prefix + (v2 ? 4 : 0), prefix, chunk0}};
        std::vector<uint64_t> heaps;
        std::vector<Message> checked;
        for (size_t k = 0; k < chunks.size(); ++k) {
            const Chunk c = chunks[k];
            if (c.bytes < c.offset || c.bytes > room || c.address > room - c.bytes)
                damaged(fmt::format("a chunk of {} bytes at {} runs past the end of the file of {} bytes", c.bytes,
                                    c.address, file_size_));
            if (chunks.size() > 4096) damaged("more than 4096 chunks");
            for (const auto& [next, bytes] : walk_messages(c.address + c.offset, c.messages, v2, flags, heaps, checked))
                chunks.push_back({next, bytes, v2 ? 4u : 0u, bytes - std::min<uint64_t>(bytes, v2 ? 8 : 0)});
        }
        // Every chunk first, then what the messages point to or hold.
        for (uint64_t heap : heaps) check_local_heap(heap, where);
        for (const Message& m : checked) {
            const char* name = message_name(m.type);
            if ((m.flags & 0x02) != 0)
                fail(where, fmt::format("a shared {} message (expected the object's own)", name));
            if (m.type == 0x03) check_datatype(m.data.data(), m.data.size(), 0, 0, where);
            else check_message(m.type, name, m.data.data(), m.data.size(), where);
        }
    }

    // A group's local heap (its member names), which libhdf5 also allocates at the size the file states
    // (H5HL_protect; found by fuzz/nir_fuzz.cpp): {"HEAP", version 0, 3 reserved, data size, free list offset,
    // data address} (HDF5 file format spec, "Local Heaps"); the data must lie inside the file.
    void check_local_heap(uint64_t address, const std::string& where) {
        const auto room = static_cast<uint64_t>(file_size_ - base_address_);
        uint8_t h[32] = {};
        if (address >= room || !read_raw(base_address_ + static_cast<int64_t>(address), h,
                                         8 + 2 * lengths_bytes_ + offsets_bytes_) ||
            std::memcmp(h, "HEAP", 4) != 0)
            fail(where, "damaged group (no local heap where its symbol table points)");
        const uint64_t size = little(h + 8, lengths_bytes_), data = little(h + 8 + 2 * lengths_bytes_, offsets_bytes_);
        if (size > room || data > room - size)
            fail(where, fmt::format("damaged group (a local heap of {} bytes at {} runs past the end of the file of "
                                    "{} bytes)", size, data, file_size_));
    }

    // One message of an object header, kept for check_object_header's checks after the header's chunks.
    struct Message {
        int type;
        uint8_t flags;
        std::vector<uint8_t> data;
    };

    // The continuation messages (address, bytes) among the messages of one object header chunk (see above); the
    // local heap addresses of its symbol table messages (type 0x11: B-tree address, heap address) into `heaps`;
    // the messages a dataset's opening decodes into `checked`, for check_datatype and check_message. Such a message
    // shared (flag 0x02) would send HDF5 to another object header or a shared message heap that this walk does not
    // reach: refused (no NIR writer makes one).
    std::vector<std::pair<uint64_t, uint64_t>> walk_messages(uint64_t start, uint64_t size, bool v2, uint8_t flags,
                                                             std::vector<uint64_t>& heaps,
                                                             std::vector<Message>& checked) {
        std::vector<uint8_t> chunk(static_cast<size_t>(size));
        read_raw(base_address_ + static_cast<int64_t>(start), chunk.data(), chunk.size());
        const size_t header = v2 ? 4 + ((flags & 0x04) ? 2 : 0) : 8;
        std::vector<std::pair<uint64_t, uint64_t>> out;
        for (size_t p = 0; p + header <= chunk.size();) {
            const auto type = v2 ? chunk[p] : little(&chunk[p], 2);
            const auto bytes = static_cast<size_t>(little(&chunk[p + (v2 ? 1 : 2)], 2));
            if (bytes > chunk.size() - p - header) break;  // HDF5 refuses it
            // HDF5 decodes a continuation's address and size whatever size the message states (even 0, reading
            // the next message's bytes; found by fuzz/nir_fuzz.cpp), so they are read the same way here.
            uint8_t cont[16] = {};
            if (type == 0x10) {
                if (!read_raw(base_address_ + static_cast<int64_t>(start + p + header), cont,
                              offsets_bytes_ + lengths_bytes_))
                    return {{UINT64_MAX, 0}};  // beyond the end of the file: refused by the caller
                out.push_back({little(cont, offsets_bytes_), little(cont + offsets_bytes_, lengths_bytes_)});
            }
            if (message_name(static_cast<int>(type)) != nullptr)
                checked.push_back({static_cast<int>(type), chunk[p + (v2 ? 3 : 4)],
                                   std::vector<uint8_t>(&chunk[p + header], &chunk[p + header] + bytes)});
            if (type == 0x11 && bytes >= 2 * offsets_bytes_)
                heaps.push_back(little(&chunk[p + header + offsets_bytes_], offsets_bytes_));
            p += header + bytes;
        }
        return out;
    }

    // The messages H5Dopen decodes (H5D__open_oid, H5D__layout_oh_read), by type; nullptr for the others.
    static const char* message_name(int type) {
        switch (type) {
        case 0x01: return "dataspace";
        case 0x03: return "datatype";
        case 0x04: case 0x05: return "fill value";
        case 0x07: return "external file list";
        case 0x08: return "layout";
        case 0x0B: return "filter pipeline";
        default: return nullptr;
        }
    }

    // HDF5 1.10 decodes these messages without bounds too (it copies a compact dataset's data, a fill value, a
    // filter's name and parameters at the sizes they state), so each one's fields are taken here as HDF5 decodes them
    // (HDF5 file format spec, "Dataspace", "Fill Value", "Data Layout" and "Filter Pipeline" messages) and must lie
    // inside the message, a filter's name NUL-terminated inside it. External storage and virtual datasets (HDF5
    // reads other files, and names from heaps this walk does not check) are refused: NIR keeps its data in the file.
    void check_message(int type, const char* name, const uint8_t* m, size_t size, const std::string& where) {
        const auto damaged = [&](const std::string& what) {
            fail(where, fmt::format("damaged {} message ({})", name, what));
        };
        size_t p = 0;
        const auto get = [&](uint64_t n) -> uint64_t {
            if (n > size - p) damaged(fmt::format("it runs past its {} bytes", size));
            const uint64_t v = n <= 8 ? little(m + p, static_cast<size_t>(n)) : 0;
            p += static_cast<size_t>(n);
            return v;
        };
        const auto sized = [&](uint64_t n) { if (n < 0x80000000u) get(n); };  // HDF5: int32, negative: none
        if (type == 0x07) fail(where, "data in external files (expected the data inside the file)");
        if (type == 0x04) return sized(get(4));  // the old fill value: {uint32 size, value}, without a version
        const uint64_t version = get(1);
        if (type == 0x01) {  // {version, rank, flags, version 1: 5 reserved, 2: type}, the sizes, maximum sizes
            const uint64_t rank = get(1), flags = get(1);
            get(version == 1 ? 5 : 1);
            if (rank <= 32) get(rank * lengths_bytes_ * ((flags & 1) ? 2 : 1));  // more: HDF5 refuses
        } else if (type == 0x05 && version < 3) {  // {version, allocation and write times, defined, size, value}
            get(2);
            if (get(1) != 0 || version == 1) sized(get(4));
        } else if (type == 0x05) {  // {version 3, flags, size and value with flag 0x20}
            if ((get(1) & 0x20) != 0) sized(get(4));
        } else if (type == 0x08) {
            check_layout(version, get, damaged);
        } else if (type == 0x0B) {  // {version, filters, version 1: 6 reserved}, filters
            const uint64_t filters = get(1);
            if (version == 1) get(6);
            for (uint64_t i = 0; i < filters && filters <= 32; ++i) {  // {id, name length, flags, values, name, values}
                const uint64_t id = get(2), name_bytes = version > 1 && id < 256 ? 0 : get(2);
                get(2);
                const uint64_t values = get(2), at = p;
                get(name_bytes);
                if (name_bytes != 0 && std::memchr(m + at, 0, static_cast<size_t>(name_bytes)) == nullptr)
                    damaged(fmt::format("the name of filter {} runs past its {} bytes", i, name_bytes));
                get(4 * values + (version == 1 && values % 2 != 0 ? 4 : 0));
            }
        }
    }

    // A layout message after its version: versions 1 and 2 {rank, class, 5 reserved, address unless compact, uint32
    // sizes, compact: uint32 size and the data}; 3 and 4 {class, compact: uint16 size and the data; contiguous:
    // address, size; chunked version 3: rank, address, uint32 sizes; version 4: flags, rank, bytes per size, sizes,
    // index type, its fields, address; virtual: refused}.
    template <typename Get, typename Damaged>
    void check_layout(uint64_t version, const Get& get, const Damaged& damaged) {
        if (version < 3) {
            const uint64_t rank = get(1), cls = get(1);
            get(5 + (cls != 0 ? offsets_bytes_ : 0));
            if (rank > 33) return;  // HDF5 refuses it
            get(4 * rank);
            if (cls == 0) get(get(4));
            return;
        }
        const uint64_t cls = get(1);
        if (cls == 0) get(get(2));
        if (cls == 1) get(offsets_bytes_ + lengths_bytes_);
        if (cls == 2 && version == 3) get(offsets_bytes_ + 4 * get(1));
        if (cls == 2 && version > 3) {
            const uint64_t flags = get(1), rank = get(1), bytes = get(1);
            get(rank * bytes);
            const uint64_t index = get(1);  // its fields: single chunk (filtered: size, mask), fixed or extensible
            const uint64_t fields[6] = {0, (flags & 2) ? lengths_bytes_ + 4 : 0, 0, 1, 5, 6};  // array, B-tree
            get((index < 6 ? fields[index] : 0) + offsets_bytes_);
        }
        if (cls == 3) damaged("a virtual dataset, whose data lies in other files (expected the data inside the file)");
    }

    // HDF5 1.10 decodes a datatype message without bounds (H5O_dtype_decode_helper): it copies the member names
    // of compound and enum types with strdup and reads the rest where the class, version and counts say, so a
    // damaged class or count sends it past the message and the object header chunk holding it (found by
    // fuzz/nir_fuzz.cpp: a variable-length string type turned into an enum of 257 members, strdup reading past the
    // chunk). The datatype of `m` (`size` bytes) at `p` is walked here as HDF5 decodes it (HDF5 file format spec,
    // "Datatype Message": {class | version << 4, 24 class bits, uint32 size, properties}) and must end inside the
    // message, every name NUL-terminated inside it. Returns where it ends.
    size_t check_datatype(const uint8_t* m, size_t size, size_t p, int depth, const std::string& where) {
        const auto damaged = [&](const std::string& what) { fail(where, "damaged datatype (" + what + ")"); };
        const auto need = [&](uint64_t n, const char* what) {
            if (p > size || n > size - p) damaged(fmt::format("{} beyond its message of {} bytes", what, size));
        };
        if (depth > 16) damaged("nested more than 16 deep");
        need(8, "a datatype");
        const int cls = m[p] & 0x0f, version = m[p] >> 4;
        const uint64_t bits = little(m + p + 1, 3), type_size = little(m + p + 4, 4);
        p += 8;
        const auto name = [&](uint64_t i) {  // NUL-terminated; padded to 8 bytes before version 3
            const void* nul = p < size ? std::memchr(m + p, 0, size - p) : nullptr;
            if (nul == nullptr)
                damaged(fmt::format("the name of member {} runs past its message of {} bytes", i, size));
            const auto length = static_cast<size_t>(static_cast<const uint8_t*>(nul) - (m + p));
            p += version < 3 ? (length + 8) / 8 * 8 : length + 1;
        };
        switch (cls) {
        case 0: case 4:  // fixed-point, bitfield
            need(4, "a fixed-point or bitfield type");
            check_bits(m + p, cls, bits, type_size, where);
            return p + 4;
        case 1:
            need(12, "a floating-point type");
            check_bits(m + p, cls, bits, type_size, where);
            return p + 12;
        case 2: need(2, "a time type"); return p + 2;  // precision
        case 5: need(bits & 0xff, "an opaque type's tag"); return p + (bits & 0xff);
        case 6:  // compound: per member a name, its offset (version 1: and 28 bytes of dimensions), its type
            for (uint64_t i = 0; i < (bits & 0xffff); ++i) {
                name(i);
                const uint64_t offset_bytes = version >= 3 ? std::max(bit_width(type_size) - 1, 0) / 8 + 1 : 4;
                need(offset_bytes + (version == 1 ? 28 : 0), "a compound member");
                p = check_datatype(m, size, p + offset_bytes + (version == 1 ? 28 : 0), depth + 1, where);
            }
            return p;
        case 8: {  // enum: the base type, the member names, then one base value per member
            const size_t base = p;
            p = check_datatype(m, size, p, depth + 1, where);
            for (uint64_t i = 0; i < (bits & 0xffff); ++i) name(i);
            const uint64_t value_bytes = little(m + base + 4, 4);
            if (value_bytes != 0 && (bits & 0xffff) > (size - std::min(p, size)) / value_bytes)
                damaged(fmt::format("an enum's values run past its message of {} bytes", size));
            return p + (bits & 0xffff) * value_bytes;
        }
        case 9: return check_datatype(m, size, p, depth + 1, where);  // variable-length: the base type
        case 10: {  // array: rank (version 2: and 3 reserved), the dimensions (version 2: and a permutation), base
            need(1, "an array type");
            const uint64_t rank = m[p];
            const uint64_t dims = version < 3 ? 4 + 8 * rank : 1 + 4 * rank;
            need(dims, "an array type's dimensions");
            return check_datatype(m, size, p + dims, depth + 1, where);
        }
        default: return p;  // string and reference: no properties; another class: HDF5 refuses it
        }
    }

    // HDF5 1.10 converts numbers bit by bit at the offset and precision their type states (H5T__bit_copy), unchecked:
    // a precision of 0 sent it far outside the value (found by fuzz/nir_fuzz.cpp: SIGBUS converting an int64). The
    // properties `q` of a fixed-point or bitfield type ({uint16 offset, uint16 precision}) or floating-point type
    // (also exponent position and size, mantissa position and size, a byte each; the sign's position in the class
    // bits) must lie inside the number, as HDF5 1.14 checks.
    void check_bits(const uint8_t* q, int cls, uint64_t bits, uint64_t type_size, const std::string& where) {
        const uint64_t offset = little(q, 2), precision = little(q + 2, 2);
        if (precision == 0 || offset + precision > 8 * type_size)
            fail(where, fmt::format("damaged datatype (a precision of {} bits at bit {} in a number of {} bytes)",
                                    precision, offset, type_size));
        if (cls == 1 && (q[5] == 0 || q[7] == 0 || q[4] + q[5] > precision || q[6] + q[7] > precision ||
                         ((bits >> 8) & 0xff) >= precision))
            fail(where, fmt::format("damaged datatype (a floating-point type's sign, exponent or mantissa outside its "
                                    "{} bits)", precision));
    }

    // Bits needed for v (0 for 0): HDF5 stores a version 3 compound member's offset in as few bytes as the
    // type's size needs (H5VM_limit_enc_size: floor(log2(size)) / 8 + 1).
    static int bit_width(uint64_t v) {
        int n = 0;
        for (; v != 0; v >>= 1) ++n;
        return n;
    }

    static uint64_t little(const uint8_t* p, size_t n) {
        uint64_t v = 0;
        for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
        return v;
    }

    bool read_raw(int64_t offset, void* out, size_t size) {
        if (offset < 0 || offset > file_size_ || static_cast<int64_t>(size) > file_size_ - offset) return false;
        return std::fseek(raw_.get(), offset, SEEK_SET) == 0 && std::fread(out, 1, size, raw_.get()) == size;
    }

    // HDF5 1.10 reads a variable-length string from the global heap without checking the heap's own sizes
    // (a damaged heap crashes H5HG_read), so the heap objects the strings name are checked here first, from
    // the file's bytes (HDF5 file format spec, "Global Heap" and "Variable-Length Data"): each string is
    // {uint32 length, heap collection address, uint32 object index}; a collection is "GCOL", version 1,
    // 3 reserved bytes, its size, then objects {uint16 index, uint16 references, 4 reserved, size, data
    // padded to 8}, index 0 being free space (its size counts its header). Only contiguous datasets (what h5py and write_file
    // make) can be checked this way; others are left to HDF5.
    void check_vlen_strings(hid_t dataset, int64_t count, const std::string& where) {
        const haddr_t offset = H5Dget_offset(dataset);
        if (offset == HADDR_UNDEF) return;  // compact or chunked (or never written: HDF5 reads no heap)
        const auto damaged = [&](const char* what) {
            fail(where, fmt::format("damaged variable-length string ({})", what));
        };
        constexpr size_t kRef = 16;  // 4 + 8 (addresses of 8 bytes, as every file of these writers) + 4
        if (static_cast<double>(count) * kRef > static_cast<double>(file_size_)) damaged("more strings than the file holds");
        std::vector<uint8_t> refs(static_cast<size_t>(count) * kRef);
        if (!read_raw(base_address_ + static_cast<int64_t>(offset), refs.data(), refs.size()))
            damaged("its data lies beyond the end of the file");
        const auto u = [](const uint8_t* p, int n) {
            uint64_t v = 0;
            for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
            return v;
        };
        for (int64_t i = 0; i < count; ++i) {
            const uint8_t* r = refs.data() + i * kRef;
            const uint64_t length = u(r, 4), address = u(r + 4, 8), index = u(r + 12, 4);
            if (length == 0 && address == 0) continue;  // an empty (null) string: no heap object
            if (address > static_cast<uint64_t>(file_size_)) damaged("heap address beyond the end of the file");
            const int64_t at = base_address_ + static_cast<int64_t>(address);
            uint8_t header[16];
            if (!read_raw(at, header, sizeof header) || std::memcmp(header, "GCOL", 4) != 0 || header[4] != 1)
                damaged("no global heap collection where it points");
            const uint64_t collection = u(header + 8, 8);
            if (collection < 16 || collection > static_cast<uint64_t>(file_size_ - at))
                damaged("heap collection size beyond the file");
            std::vector<uint8_t> heap(static_cast<size_t>(collection));
            if (!read_raw(at, heap.data(), heap.size())) damaged("heap collection beyond the file");
            // Walk the collection as HDF5 does (every object, free space included, the last of an index wins),
            // refusing what would send HDF5 out of the collection or round in circles.
            std::map<uint64_t, uint64_t> sizes;
            for (uint64_t p = 16; p < collection;) {
                if (p + 16 > collection) break;  // too small for an object header: free space
                const uint64_t object = u(&heap[p], 2), size = u(&heap[p + 8], 8);
                if (size > collection) damaged("heap object larger than its collection");
                const uint64_t need = object == 0 ? size : 16 + (size + 7) / 8 * 8;
                if (need < 16 || need > collection - p) damaged("heap object outside its collection");
                if (object != 0) sizes[object] = size;
                p += need;
            }
            const auto found = sizes.find(index);
            if (index == 0 || found == sizes.end()) damaged("heap object not found");
            // HDF5 copies the heap object into a buffer of the string's length: they must agree.
            if (found->second != length) damaged("string length differs from its heap object");
        }
    }

    std::string read_string(hid_t dataset, const std::string& where) {
        Hid type;
        const H5T_class_t c = class_of(dataset, where, &type);
        if (c != H5T_STRING) fail(where, fmt::format("expected a string, found {} dataset", class_name(c)));
        int64_t count = 0;
        const std::vector<int64_t> shape = shape_of(dataset, where, &count);
        if (count != 1) fail(where, fmt::format("expected one string, found {}", count));
        return read_strings(dataset, type.get(), count, where).at(0);
    }

    Array read_array(hid_t dataset, hid_t type, H5T_class_t c, const std::string& where) {
        Array a;
        int64_t count = 0;
        a.shape = shape_of(dataset, where, &count);
        a.integer = c == H5T_INTEGER;
        const size_t bytes = H5Tget_size(type);
        if (bytes == 0 || bytes > 16) fail(where, fmt::format("a number of {} bytes (damaged datatype?)", bytes));
        a.float64 = c == H5T_FLOAT && bytes > 4;
        a.values.assign(static_cast<size_t>(count), 0.0);
        check_compact(dataset, bytes, count, where);
        if (count > 0 &&
            H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.values.data()) < 0)
            fail(where, "cannot read the values (damaged file, or a compression filter this HDF5 lacks)");
        return a;
    }

    // A dataset that is a parameter: numbers into `numbers`, a single string into `strings`.
    void read_value(hid_t group, const std::string& name, const std::string& where,
                    std::map<std::string, Array>& numbers, std::map<std::string, std::string>& strings) {
        Hid d = open_dataset(group, name, where);
        Hid type;
        const H5T_class_t c = class_of(d.get(), where, &type);
        if (c == H5T_INTEGER || c == H5T_FLOAT) {
            numbers[name] = read_array(d.get(), type.get(), c, where);
        } else if (c == H5T_STRING) {
            strings[name] = read_string(d.get(), where);
        } else {
            fail(where, fmt::format("expected numbers or a string, found {} dataset", class_name(c)));
        }
    }

    void read_metadata(hid_t node_group, const std::string& path, Node& node) {
        Hid g(H5Gopen2(node_group, "metadata", H5P_DEFAULT), H5Gclose);
        if (!g.valid()) fail(path, "cannot open the group");
        for (const Link& l : links_of(g.get(), path)) {
            const std::string where = join_path(path, l.name);
            if (l.kind != H5I_DATASET) fail(where, "a nested group in metadata (expected a dataset)");
            read_value(g.get(), l.name, where, node.metadata, node.metadata_strings);
        }
    }

    void read_edges(hid_t node_group, const std::string& path, Graph& graph) {
        Hid d = open_dataset(node_group, "edges", path);
        Hid type;
        const H5T_class_t c = class_of(d.get(), path, &type);
        if (c != H5T_STRING) fail(path, fmt::format("expected N x 2 strings, found {} dataset", class_name(c)));
        int64_t count = 0;
        const std::vector<int64_t> shape = shape_of(d.get(), path, &count);
        const bool empty_1d = shape.size() == 1 && shape[0] == 0;
        if (!empty_1d && !(shape.size() == 2 && shape[1] == 2))
            fail(path, fmt::format("expected N x 2 strings, found shape [{}]", fmt::join(shape, ", ")));
        const std::vector<std::string> names = read_strings(d.get(), type.get(), count, path);
        for (size_t i = 0; i + 1 < names.size(); i += 2) graph.edges.emplace_back(names[i], names[i + 1]);
    }

    Node read_node(hid_t group, const std::string& path, const std::string& name, int depth) {
        if (++node_count_ > limits_.max_nodes) fail(path, fmt::format("more than {} nodes", limits_.max_nodes));
        Node node;
        node.name = name;
        const std::vector<Link> links = links_of(group, path);
        const auto has = [&](const char* n, H5I_type_t kind) {
            for (const Link& l : links)
                if (l.name == n) {
                    if (l.kind != kind)
                        fail(join_path(path, n), kind == H5I_GROUP ? "expected a group" : "expected a dataset");
                    return true;
                }
            return false;
        };
        if (!has("type", H5I_DATASET)) fail(join_path(path, "type"), "missing (every node needs a string \"type\")");
        {
            Hid d = open_dataset(group, "type", join_path(path, "type"));
            node.type = read_string(d.get(), join_path(path, "type"));
        }
        const bool is_graph = node.type == "NIRGraph";
        if (depth == 0 && !is_graph)
            fail(join_path(path, "type"), fmt::format("expected \"NIRGraph\" for the root node, found \"{}\"", node.type));
        if (is_graph) {
            if (depth >= limits_.max_depth)
                fail(path, fmt::format("NIRGraph nodes nested deeper than {} levels", limits_.max_depth));
            if (!has("nodes", H5I_GROUP)) fail(join_path(path, "nodes"), "missing (a NIRGraph needs a group \"nodes\")");
            if (!has("edges", H5I_DATASET))
                fail(join_path(path, "edges"), "missing (a NIRGraph needs a dataset \"edges\")");
            node.graph = std::make_shared<Graph>();
        }
        for (const Link& l : links) {
            const std::string where = join_path(path, l.name);
            if (l.name == "type") continue;
            if (l.name == "metadata" && l.kind == H5I_GROUP) {
                read_metadata(group, where, node);
            } else if (is_graph && l.name == "nodes") {
                Hid nodes(H5Gopen2(group, "nodes", H5P_DEFAULT), H5Gclose);
                if (!nodes.valid()) fail(where, "cannot open the group");
                for (const Link& child : links_of(nodes.get(), where)) {
                    const std::string child_path = join_path(where, child.name);
                    if (child.kind != H5I_GROUP) fail(child_path, "expected a node (a group)");
                    Hid g(H5Gopen2(nodes.get(), child.name.c_str(), H5P_DEFAULT), H5Gclose);
                    if (!g.valid()) fail(child_path, "cannot open the group");
                    node.graph->nodes.push_back(read_node(g.get(), child_path, child.name, depth + 1));
                }
            } else if (is_graph && l.name == "edges") {
                read_edges(group, where, *node.graph);
            } else if (l.kind == H5I_GROUP) {
                fail(where, fmt::format("unexpected group in a {} node (expected datasets and \"metadata\")", node.type));
            } else {
                read_value(group, l.name, where, node.params, node.strings);
            }
        }
        return node;
    }

    struct CloseFile {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };

    std::string file_;
    ReadLimits limits_;
    std::unique_ptr<std::FILE, CloseFile> raw_;  // the same file, for check_vlen_strings
    int64_t file_size_ = 0;
    size_t offsets_bytes_ = 8, lengths_bytes_ = 8;  // sizes of addresses and lengths (the superblock's)
    int64_t base_address_ = 0;                   // HDF5 addresses are relative to the end of a user block
    int64_t total_values_ = 0;
    int64_t node_count_ = 0;
};

// ---------------------------------------------------------------------------------------------- writing

class Writer {
public:
    explicit Writer(std::string file) : file_(std::move(file)) {}

    [[noreturn]] void fail(const std::string& object, const std::string& what) const {
        throw ModelError(fmt::format("cannot write {}: {}: {}", file_, object, what));
    }

    void write(hid_t f, const File& file) {
        write_string(f, "version", file.version, "/version");
        Hid g = create_group(f, "node", "/node");
        write_node(g.get(), "/node", file.root);
    }

private:
    Hid create_group(hid_t loc, const std::string& name, const std::string& where) {
        check_name(name, where);
        Hid g(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
        if (!g.valid()) fail(where, "cannot create the group (a duplicate name?)");
        return g;
    }

    void check_name(const std::string& name, const std::string& where) {
        if (name.empty() || name == "." || name.find('/') != std::string::npos)
            fail(where, fmt::format("\"{}\" cannot be an HDF5 name (empty, \".\" or holding '/')", name));
    }

    static Hid utf8_string_type() {
        Hid t(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(t.get(), H5T_VARIABLE);
        H5Tset_cset(t.get(), H5T_CSET_UTF8);
        return t;
    }

    void write_string(hid_t loc, const std::string& name, const std::string& value, const std::string& where) {
        check_name(name, where);
        Hid type = utf8_string_type();
        Hid space(H5Screate(H5S_SCALAR), H5Sclose);
        Hid d(H5Dcreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
              H5Dclose);
        if (!d.valid()) fail(where, "cannot create the dataset (a duplicate name?)");
        const char* data = value.c_str();
        if (H5Dwrite(d.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &data) < 0)
            fail(where, "cannot write the string");
    }

    void write_array(hid_t loc, const std::string& name, const Array& a, const std::string& where) {
        check_name(name, where);
        int64_t count = 1;
        for (int64_t d : a.shape) {
            if (d < 0) fail(where, "a negative dimension");
            count *= d;
        }
        if (count != a.size())
            fail(where, fmt::format("shape [{}] holds {} values, the array has {}", fmt::join(a.shape, ", "), count,
                                    a.size()));
        const hid_t file_type = a.integer ? H5T_STD_I64LE : a.float64 ? H5T_IEEE_F64LE : H5T_IEEE_F32LE;
        std::vector<hsize_t> dims(a.shape.begin(), a.shape.end());
        Hid space(a.shape.empty() ? H5Screate(H5S_SCALAR)
                                  : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                  H5Sclose);
        Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
        if (!space.valid() || !dcpl.valid()) fail(where, "cannot describe the dataset");
        if (!a.shape.empty() && count > 0) {
            // gzip as the reference library writes it; chunks of at most 1 MiB (halve the largest dimension).
            std::vector<hsize_t> chunk = dims;
            const auto bytes = [&] {
                double b = 8;
                for (hsize_t c : chunk) b *= static_cast<double>(c);
                return b;
            };
            while (bytes() > double(1 << 20)) {
                auto largest = std::max_element(chunk.begin(), chunk.end());
                *largest = (*largest + 1) / 2;
            }
            if (H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()) < 0 ||
                H5Pset_deflate(dcpl.get(), 4) < 0)
                fail(where, "cannot set up compression");
        }
        Hid d(H5Dcreate2(loc, name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT), H5Dclose);
        if (!d.valid()) fail(where, "cannot create the dataset (a duplicate name?)");
        if (count > 0 && H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.values.data()) < 0)
            fail(where, "cannot write the values");
    }

    void write_values(hid_t g, const std::string& path, const std::map<std::string, Array>& numbers,
                      const std::map<std::string, std::string>& strings) {
        for (const auto& [key, value] : strings) {
            if (numbers.count(key)) fail(join_path(path, key), "both a number and a string");
            write_string(g, key, value, join_path(path, key));
        }
        for (const auto& [key, value] : numbers) write_array(g, key, value, join_path(path, key));
    }

    void write_edges(hid_t g, const std::string& where, const Graph& graph) {
        std::vector<const char*> names;
        for (const auto& [from, to] : graph.edges) {
            names.push_back(from.c_str());
            names.push_back(to.c_str());
        }
        const hsize_t dims[2] = {graph.edges.size(), 2};
        Hid type = utf8_string_type();
        Hid space(H5Screate_simple(2, dims, nullptr), H5Sclose);
        Hid d(H5Dcreate2(g, "edges", type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
        if (!d.valid()) fail(where, "cannot create the dataset");
        if (!names.empty() && H5Dwrite(d.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, names.data()) < 0)
            fail(where, "cannot write the edges");
    }

    void write_node(hid_t g, const std::string& path, const Node& node) {
        // "type" and "metadata" are taken in every node, "nodes" and "edges" in a graph.
        for (const char* reserved : {"type", "metadata", "nodes", "edges"}) {
            const bool graph_only = std::strcmp(reserved, "nodes") == 0 || std::strcmp(reserved, "edges") == 0;
            if (graph_only && !node.graph) continue;
            if (node.params.count(reserved) || node.strings.count(reserved))
                fail(join_path(path, reserved), "a parameter with a reserved name");
        }
        if (node.type == "NIRGraph" && !node.graph) fail(path, "a NIRGraph node without a graph");
        write_string(g, "type", node.type, join_path(path, "type"));
        write_values(g, path, node.params, node.strings);
        if (!node.metadata.empty() || !node.metadata_strings.empty()) {
            const std::string where = join_path(path, "metadata");
            Hid m = create_group(g, "metadata", where);
            write_values(m.get(), where, node.metadata, node.metadata_strings);
        }
        if (node.graph) {
            const std::string where = join_path(path, "nodes");
            Hid nodes = create_group(g, "nodes", where);
            for (const Node& child : node.graph->nodes) {
                const std::string child_path = join_path(where, child.name);
                Hid c = create_group(nodes.get(), child.name, child_path);
                write_node(c.get(), child_path, child);
            }
            write_edges(g, join_path(path, "edges"), *node.graph);
        }
    }

    std::string file_;
};

}  // namespace

File read_file(const std::string& path, const ReadLimits& limits) { return Reader(path, limits).read(); }

void write_file(const std::string& path, const File& file) {
    silence_hdf5();
    const std::string temp = fmt::format("{}.tmp{}", path, static_cast<long>(::getpid()));
    try {
        {
            Hid f(H5Fcreate(temp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
            if (!f.valid()) throw ModelError(fmt::format("cannot write {}: cannot create {}", path, temp));
            Writer(path).write(f.get(), file);
            if (H5Fflush(f.get(), H5F_SCOPE_GLOBAL) < 0)
                throw ModelError(fmt::format("cannot write {}: cannot flush {}", path, temp));
        }  // closed here, before the rename
        replace_file(temp, path);
    } catch (const ModelError&) {
        std::remove(temp.c_str());
        throw;
    } catch (const DataError& e) {
        std::remove(temp.c_str());
        throw ModelError(e.what());
    }
}

}  // namespace neuroemu::nir
