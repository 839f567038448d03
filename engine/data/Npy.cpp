#include "data/Npy.h"

#include "base/Json.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>

namespace particle {

namespace {

constexpr int64_t kMaxBytes = int64_t(1) << 36; // 64 GiB: anything larger is a damaged header

[[noreturn]] void fail(const std::string &name, const std::string &what) {
  throw Error(ErrorKind::File, name + ": " + what);
}

std::vector<uint8_t> readAll(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail(path, "cannot open the file");
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::streamoff>(in.tellg());
  if (size < 0)
    fail(path, "cannot read the file");
  in.seekg(0);
  std::vector<uint8_t> bytes(static_cast<std::size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char *>(bytes.data()), size))
    fail(path, "cannot read the file");
  return bytes;
}

uint64_t little(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

// The value of `key` in NumPy's header dict ("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }").
std::string field(const std::string &header, const std::string &key, const std::string &name) {
  const std::string quoted = "'" + key + "'";
  auto at = header.find(quoted);
  if (at == std::string::npos)
    fail(name, "the header has no '" + key + "' (not a NumPy .npy header: " + header.substr(0, 80) + ")");
  at = header.find(':', at + quoted.size());
  if (at == std::string::npos)
    fail(name, "the header's '" + key + "' has no value");
  ++at;
  while (at < header.size() && header[at] == ' ')
    ++at;
  if (at >= header.size())
    fail(name, "the header's '" + key + "' has no value");
  const char open = header[at];
  if (open == '(' || open == '\'' || open == '"') {
    const auto end = header.find(open == '(' ? ')' : open, at + 1);
    if (end == std::string::npos)
      fail(name, "the header's '" + key + "' is not closed");
    return header.substr(at, end - at + 1);
  }
  const auto end = header.find_first_of(",}", at);
  if (end == std::string::npos)
    fail(name, "the header's '" + key + "' is not closed");
  return header.substr(at, end - at);
}

} // namespace

int64_t NpyArray::count() const {
  int64_t n = 1;
  for (auto d : shape)
    n *= d;
  return n;
}

double NpyArray::at(int64_t i) const {
  const uint8_t *p = data.data() + i * itemSize;
  switch (kind) {
  case 'f':
    if (itemSize == 4) {
      float f = 0;
      std::memcpy(&f, p, 4);
      return f;
    } else {
      double d = 0;
      std::memcpy(&d, p, 8);
      return d;
    }
  case 'i': {
    const uint64_t u = little(p, itemSize);
    const int shift = 64 - 8 * itemSize;
    return static_cast<double>(static_cast<int64_t>(u << shift) >> shift); // sign-extended
  }
  default: // 'u', 'b'
    return static_cast<double>(little(p, itemSize));
  }
}

std::string NpyArray::dtype() const {
  if (kind == 'b')
    return "bool";
  const std::string base = kind == 'f' ? "float" : kind == 'i' ? "int" : "uint";
  return base + std::to_string(itemSize * 8);
}

NpyArray parseNpy(const std::vector<uint8_t> &bytes, const std::string &name) {
  static const uint8_t kMagic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    fail(name, "not a NumPy .npy file (no \\x93NUMPY signature)");
  const int major = bytes[6];
  if (major < 1 || major > 3)
    fail(name, "unknown .npy format version " + std::to_string(major));
  const std::size_t lenBytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + lenBytes)
    fail(name, "the file ends inside its header");
  const uint64_t headerLen = little(bytes.data() + 8, static_cast<int>(lenBytes));
  const std::size_t start = 8 + lenBytes;
  if (headerLen > bytes.size() - start)
    fail(name, "the header says it is " + std::to_string(headerLen) + " bytes long, the file has " +
                   std::to_string(bytes.size() - start) + " after the signature");
  const std::string header(reinterpret_cast<const char *>(bytes.data() + start), static_cast<std::size_t>(headerLen));

  NpyArray a;
  const std::string descr = field(header, "descr", name);
  if (descr.size() < 5 || descr.front() != '\'' || descr.back() != '\'')
    fail(name, "dtype " + descr + " is not supported (a plain number type like '<f4' is)");
  const char order = descr[1];
  a.kind = descr[2];
  const std::string sizeText = descr.substr(3, descr.size() - 4);
  if (sizeText.empty() || sizeText.size() > 1 || sizeText[0] < '1' || sizeText[0] > '8')
    fail(name, "dtype " + descr + " is not supported");
  a.itemSize = sizeText[0] - '0';
  const bool sizeOk = (a.kind == 'f' && (a.itemSize == 4 || a.itemSize == 8)) ||
                      ((a.kind == 'i' || a.kind == 'u') &&
                       (a.itemSize == 1 || a.itemSize == 2 || a.itemSize == 4 || a.itemSize == 8)) ||
                      (a.kind == 'b' && a.itemSize == 1);
  if (!sizeOk || (order != '<' && order != '>' && order != '|' && order != '='))
    fail(name, "dtype " + descr + " is not supported (float32/64, (u)int8–64 and bool are)");

  const std::string fortran = field(header, "fortran_order", name);
  if (fortran.rfind("True", 0) == 0)
    fail(name, "the array is in Fortran order; save it in C order (numpy.ascontiguousarray) ");
  if (fortran.rfind("False", 0) != 0)
    fail(name, "the header's fortran_order is neither True nor False");

  const std::string shape = field(header, "shape", name);
  if (shape.front() != '(')
    fail(name, "the header's shape is not a tuple");
  std::size_t i = 1;
  while (i < shape.size()) {
    while (i < shape.size() && (shape[i] == ' ' || shape[i] == ','))
      ++i;
    if (i >= shape.size() || shape[i] == ')')
      break;
    int64_t d = 0;
    bool digits = false;
    while (i < shape.size() && shape[i] >= '0' && shape[i] <= '9') {
      d = d * 10 + (shape[i] - '0');
      digits = true;
      if (d > kMaxBytes)
        fail(name, "the header's shape " + shape + " is too large");
      ++i;
    }
    if (!digits)
      fail(name, "the header's shape " + shape + " is not a tuple of sizes");
    a.shape.push_back(d);
    if (a.shape.size() > 8)
      fail(name, "more than 8 dimensions");
  }
  int64_t count = 1;
  for (auto d : a.shape) {
    if (d != 0 && count > kMaxBytes / d)
      fail(name, "the header's shape " + shape + " is too large");
    count *= d;
  }
  const std::size_t dataStart = start + static_cast<std::size_t>(headerLen);
  const auto want = static_cast<uint64_t>(count) * static_cast<uint64_t>(a.itemSize);
  const uint64_t have = bytes.size() - dataStart;
  if (have != want)
    fail(name, "the header says shape " + shape + " of " + a.dtype() + " (" + std::to_string(want) +
                   " bytes), the file holds " + std::to_string(have) + " bytes of data");
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(dataStart), bytes.end());
  if (order == '>' && a.itemSize > 1)
    for (std::size_t e = 0; e < a.data.size(); e += static_cast<std::size_t>(a.itemSize))
      std::reverse(a.data.begin() + static_cast<std::ptrdiff_t>(e),
                   a.data.begin() + static_cast<std::ptrdiff_t>(e) + a.itemSize);
  return a;
}

NpyArray readNpy(const std::string &path) {
  return parseNpy(readAll(path), path);
}

namespace {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;
  uint64_t compressed = 0, size = 0, offset = 0;
};

std::vector<ZipEntry> zipEntries(const std::vector<uint8_t> &z, const std::string &path) {
  // The end-of-central-directory record is in the last 64 KiB + 22 bytes.
  if (z.size() < 22)
    fail(path, "not an .npz (zip) archive: too short");
  std::size_t eocd = std::string::npos;
  const std::size_t lowest = z.size() > 65557 ? z.size() - 65557 : 0;
  for (std::size_t p = z.size() - 22 + 1; p-- > lowest;)
    if (little(&z[p], 4) == 0x06054b50) {
      eocd = p;
      break;
    }
  if (eocd == std::string::npos)
    fail(path, "not an .npz (zip) archive: no end-of-archive record");
  const uint64_t entries = little(&z[eocd + 10], 2);
  uint64_t at = little(&z[eocd + 16], 4);
  std::vector<ZipEntry> out;
  for (uint64_t e = 0; e < entries; ++e) {
    if (at + 46 > z.size() || little(&z[at], 4) != 0x02014b50)
      fail(path, "the archive's directory is damaged");
    ZipEntry entry;
    entry.method = static_cast<uint16_t>(little(&z[at + 10], 2));
    entry.compressed = little(&z[at + 20], 4);
    entry.size = little(&z[at + 24], 4);
    const uint64_t nameLen = little(&z[at + 28], 2), extraLen = little(&z[at + 30], 2),
                   commentLen = little(&z[at + 32], 2);
    entry.offset = little(&z[at + 42], 4);
    if (at + 46 + nameLen + extraLen + commentLen > z.size())
      fail(path, "the archive's directory is damaged");
    entry.name.assign(reinterpret_cast<const char *>(&z[at + 46]), static_cast<std::size_t>(nameLen));
    // ZIP64: the sizes and offset that do not fit 32 bits are in extra field 0x0001, in this order.
    uint64_t x = at + 46 + nameLen;
    const uint64_t xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const uint64_t id = little(&z[x], 2), len = little(&z[x + 2], 2);
      if (x + 4 + len > xEnd)
        break;
      if (id == 0x0001) {
        uint64_t f = x + 4;
        for (uint64_t *v : {&entry.size, &entry.compressed, &entry.offset})
          if (*v == 0xFFFFFFFFULL && f + 8 <= x + 4 + len) {
            *v = little(&z[f], 8);
            f += 8;
          }
      }
      x += 4 + len;
    }
    out.push_back(entry);
    at += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

std::vector<uint8_t> zipMember(const std::vector<uint8_t> &z, const ZipEntry &e, const std::string &name) {
  if (e.offset > z.size() || z.size() - e.offset < 30 || little(&z[e.offset], 4) != 0x04034b50)
    fail(name, "the archive entry's header is damaged");
  const uint64_t data = e.offset + 30 + little(&z[e.offset + 26], 2) + little(&z[e.offset + 28], 2);
  if (data > z.size() || e.compressed > z.size() - data)
    fail(name, "the archive entry is cut short");
  if (e.size > static_cast<uint64_t>(kMaxBytes))
    fail(name, "the archive entry is too large");
  if (e.method != 0 && e.method != 8)
    fail(name, "compression method " + std::to_string(e.method) + " is not supported (stored and deflate are)");
  // Deflate expands at most 1032-fold: a size beyond that is a lie, refused before it is allocated.
  if (e.method == 8 && e.size / 1032 > e.compressed + 1)
    fail(name, "the entry claims " + std::to_string(e.size) + " bytes from " + std::to_string(e.compressed) +
                   " compressed (deflate cannot expand that much)");
  if (e.method == 0 && e.compressed != e.size)
    fail(name, "the stored entry's sizes disagree");
  std::vector<uint8_t> out(static_cast<std::size_t>(e.size));
  if (e.method == 0) {
    std::copy_n(z.begin() + static_cast<std::ptrdiff_t>(data), static_cast<std::ptrdiff_t>(e.size), out.begin());
    return out;
  }
  z_stream s{};
  if (inflateInit2(&s, -MAX_WBITS) != Z_OK)
    fail(name, "cannot start zlib");
  s.next_in = const_cast<Bytef *>(&z[static_cast<std::size_t>(data)]);
  s.avail_in = static_cast<uInt>(std::min<uint64_t>(e.compressed, std::numeric_limits<uInt>::max()));
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(std::min<uint64_t>(out.size(), std::numeric_limits<uInt>::max()));
  const int r = inflate(&s, Z_FINISH);
  const uint64_t produced = s.total_out;
  inflateEnd(&s);
  if (r != Z_STREAM_END || produced != e.size)
    fail(name, "the compressed entry is damaged");
  return out;
}

} // namespace

NpyArray parseNpz(const std::vector<uint8_t> &bytes, const std::string &path, const std::string &array) {
  const auto entries = zipEntries(bytes, path);
  std::string names;
  for (const auto &e : entries) {
    if (e.name == array + ".npy")
      return parseNpy(zipMember(bytes, e, path + ": " + e.name), path + ": " + e.name);
    names += (names.empty() ? "" : ", ") + e.name;
  }
  fail(path, "no array \"" + array + "\" in the archive (it holds " + (names.empty() ? "nothing" : names) + ")");
}

NpyArray readNpz(const std::string &path, const std::string &array) {
  return parseNpz(readAll(path), path, array);
}

std::vector<std::string> npzArrayNames(const std::string &path) {
  std::vector<std::string> names;
  for (const auto &e : zipEntries(readAll(path), path))
    if (e.name.size() > 4 && e.name.compare(e.name.size() - 4, 4, ".npy") == 0)
      names.push_back(e.name.substr(0, e.name.size() - 4));
  return names;
}

} // namespace particle
