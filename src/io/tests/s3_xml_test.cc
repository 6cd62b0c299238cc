// The minimal XML reader against the shapes of S3's replies.
#include "io/s3_xml.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice::io {
namespace {

using ::testing::ElementsAre;

TEST(S3XmlTest, FindsElementsByExactName) {
  std::string_view xml =
      R"(<?xml version="1.0" encoding="UTF-8"?>)"
      R"(<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>)"
      R"(<Prefix>p/</Prefix><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>)"
      R"(<Contents><Key>p/a &amp; b.txt</Key><Size>3</Size><ETag>&quot;e1&quot;</ETag></Contents>)"
      R"(<Contents><Key>p/é</Key><Size>0</Size></Contents>)"
      R"(<CommonPrefixes><Prefix>p/d/</Prefix></CommonPrefixes></ListBucketResult>)";
  std::vector<std::string_view> contents = XmlElements(xml, "Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(XmlText(contents[0], "Key"), "p/a & b.txt");
  EXPECT_EQ(XmlText(contents[0], "ETag"), "\"e1\"");
  EXPECT_EQ(XmlText(contents[1], "Key"), "p/é");
  // <Key> is not <KeyCount>, and <KeyCount> is found on its own.
  EXPECT_EQ(XmlText(xml, "KeyCount"), "2");
  EXPECT_THAT(XmlElements(xml, "Key"), ElementsAre("p/a &amp; b.txt", "p/é"));
  EXPECT_EQ(XmlText(XmlElements(xml, "CommonPrefixes")[0], "Prefix"), "p/d/");
  EXPECT_EQ(XmlText(xml, "NextContinuationToken"), std::nullopt);
  EXPECT_EQ(XmlRootName(xml), "ListBucketResult");
}

TEST(S3XmlTest, EmptyElementsAndAttributes) {
  std::string_view xml = R"(<R><Prefix/><Owner id="1"><ID>x</ID></Owner><Marker a="b"/></R>)";
  EXPECT_THAT(XmlElements(xml, "Prefix"), ElementsAre(""));
  EXPECT_EQ(XmlText(xml, "Owner"), "<ID>x</ID>");
  EXPECT_THAT(XmlElements(xml, "Marker"), ElementsAre(""));
}

TEST(S3XmlTest, RootNameOfAnErrorAfterWhitespace) {
  // CompleteMultipartUpload's late failure: 200, then whitespace, then an Error document.
  std::string_view xml =
      "<?xml version=\"1.0\"?>\n  \n<Error><Code>InternalError</Code><Message>m</Message></Error>";
  EXPECT_EQ(XmlRootName(xml), "Error");
  EXPECT_EQ(XmlText(xml, "Code"), "InternalError");
}

TEST(S3XmlTest, UnescapesEntitiesAndCharacterReferences) {
  EXPECT_EQ(XmlUnescape("a&lt;b&gt;c&amp;&quot;&apos;"), "a<b>c&\"'");
  EXPECT_EQ(XmlUnescape("&#233;&#xE9;&#x1F600;"), "éé😀");
  EXPECT_EQ(XmlUnescape("&unknown; & alone"), "&unknown; & alone");
}

TEST(S3XmlTest, EscapeRoundTrips) {
  std::string text = "\"etag\" <&> 'x'";
  EXPECT_EQ(XmlUnescape(XmlEscape(text)), text);
}

}  // namespace
}  // namespace sluice::io
