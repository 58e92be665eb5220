// libzip over a Source: the callback implements the read-only, seekable subset of libzip's
// source protocol (open, read, seek, tell, stat, close, error, free, supports).
#include "formats/zip/libzip_view.h"

#include <algorithm>
#include <cstring>

#include "formats/zip/libzip_api.h"

namespace mscan::zip {
namespace {

struct State {
    const LibzipApi* api;  ///< loaded
    Source* source;
    zip_uint64_t pos = 0;
    zip_error_t error;
};

zip_int64_t callback(void* user, void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
    auto* s = static_cast<State*>(user);
    const LibzipApi& api = *s->api;
    const zip_uint64_t size = s->source->size();
    switch (cmd) {
        case ZIP_SOURCE_OPEN:
            s->pos = 0;
            return 0;
        case ZIP_SOURCE_READ: {
            zip_uint64_t done = 0;
            auto* out = static_cast<std::uint8_t*>(data);
            while (done < len && s->pos < size) {
                const auto chunk = s->source->view(
                    s->pos,
                    static_cast<std::size_t>(std::min<zip_uint64_t>(len - done, size - s->pos)));
                if (chunk.empty()) break;
                std::memcpy(out + done, chunk.data(), chunk.size());
                done += chunk.size();
                s->pos += chunk.size();
            }
            return static_cast<zip_int64_t>(done);
        }
        case ZIP_SOURCE_CLOSE:
        case ZIP_SOURCE_FREE:
            return 0;
        case ZIP_SOURCE_STAT: {
            if (len < sizeof(zip_stat_t)) {
                api.error_set(&s->error, ZIP_ER_INVAL, 0);
                return -1;
            }
            auto* st = static_cast<zip_stat_t*>(data);
            api.stat_init(st);
            st->size = size;
            st->valid |= ZIP_STAT_SIZE;
            return sizeof(zip_stat_t);
        }
        case ZIP_SOURCE_ERROR:
            return api.error_to_data(&s->error, data, len);
        case ZIP_SOURCE_SEEK: {
            const zip_int64_t to =
                api.source_seek_compute_offset(s->pos, size, data, len, &s->error);
            if (to < 0) return -1;
            s->pos = static_cast<zip_uint64_t>(to);
            return 0;
        }
        case ZIP_SOURCE_TELL:
            return static_cast<zip_int64_t>(s->pos);
        case ZIP_SOURCE_SUPPORTS:
            return api.source_make_command_bitmap(
                ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
                ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, ZIP_SOURCE_SEEK, ZIP_SOURCE_TELL,
                ZIP_SOURCE_SUPPORTS, -1);
        default:
            api.error_set(&s->error, ZIP_ER_OPNOTSUPP, 0);
            return -1;
    }
}

}  // namespace

LibzipView libzip_view(Source& source) {
    LibzipView view;
    const LibzipApi& api = libzip();
    if (!api.loaded) {
        view.error = api.error;
        return view;
    }
    view.available = true;
    State state{&api, &source, 0, {}};
    api.error_init(&state.error);
    zip_error_t error;
    api.error_init(&error);
    zip_source_t* zs = api.source_function_create(callback, &state, &error);
    if (!zs) {
        view.error = api.error_strerror(&error);
        api.error_fini(&error);
        api.error_fini(&state.error);
        return view;
    }
    zip_t* archive = api.open_from_source(zs, ZIP_RDONLY, &error);
    if (!archive) {
        view.error = api.error_strerror(&error);
        api.source_free(zs);
    } else {
        view.opened = true;
        const zip_int64_t n = api.get_num_entries(archive, 0);
        for (zip_int64_t i = 0; i < n && i < (1 << 20); ++i) {
            const char* name = api.get_name(archive, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
            view.names.emplace_back(name ? name : "");
        }
        api.discard(archive);  // also frees the source
    }
    api.error_fini(&error);
    api.error_fini(&state.error);
    return view;
}

}  // namespace mscan::zip
