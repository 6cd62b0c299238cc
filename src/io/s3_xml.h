// A minimal reader and writer for the XML of S3's replies and requests, enough for
// ListObjectsV2, the multipart calls and error documents, without an XML library.
//
// S3's documents are shallow and regular: an element of a given name never contains another of
// the same name, there are no CDATA sections, and text uses only the five predefined entities
// and numeric character references. The reader relies on exactly that: it finds an element by
// its name and takes everything up to the first matching end tag. It is not a general XML
// parser and does not validate.
//
// Thread-safety: pure functions. Returned string_views point into the `xml` argument.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::io {

/// The contents (between start and end tag) of every `name` element in `xml`, in order; ""
/// for an empty element (<Name/>).
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view name);

/// The unescaped text of the first `name` element in `xml`; nullopt when there is none.
std::optional<std::string> XmlText(std::string_view xml, std::string_view name);

/// The name of the document's root element (after any <?xml ...?> declaration and comments);
/// "" when there is none.
std::string_view XmlRootName(std::string_view xml);

/// Replaces the predefined entities and numeric character references (decimal, hex) by the
/// characters (UTF-8) they stand for; an unknown entity stays as it is.
std::string XmlUnescape(std::string_view text);

/// Escapes & < > " ' for element text or attribute values.
std::string XmlEscape(std::string_view text);

}  // namespace sluice::io
