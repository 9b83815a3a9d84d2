/**
 * The document renderer: groups flat when they fit, broken when not; comments
 * as line suffixes and own lines; clean line ends.
 */
import t from "tap";
import { group, hardline, indent, join, line, lineSuffix, ownLine, softline, type Doc } from "../../src/format/doc.js";
import { render } from "../../src/format/render.js";

const list = (items: string[]): Doc => group(["[", indent([softline, join([",", line], items)]), softline, "]"]);

t.test("a group stays flat when it fits and breaks when it does not", async (t) => {
  t.equal(render(["x = ", list(["a", "b"])], 20), "x = [a, b]\n");
  t.equal(render(["x = ", list(["aaaa", "bbbb", "cccc"])], 12), "x = [\n  aaaa,\n  bbbb,\n  cccc\n]\n");
});

t.test("the width counts what follows the group up to the next break", async (t) => {
  // "[a, b]" fits in 10 alone, but not with the tail that follows it on the line.
  t.equal(render([list(["a", "b"]), " tail-text"], 10), "[\n  a,\n  b\n] tail-text\n");
  t.equal(render([list(["a", "b"]), hardline, "tail-text"], 10), "[a, b]\ntail-text\n");
});

t.test("a hard line inside a group breaks it and every group around it", async (t) => {
  const inner = group(["(", indent([softline, "x", hardline, "y"]), softline, ")"]);
  t.equal(render(group(["f", inner]), 80), "f(\n  x\n  y\n)\n");
});

t.test("a line suffix lands at the end of its output line and breaks its group", async (t) => {
  const doc = group(["[", indent([softline, "a", ",", lineSuffix("# first"), { t: "breakParent" }, line, "b"]), softline, "]"]);
  t.equal(render(doc, 80), "[\n  a, # first\n  b\n]\n");
  t.equal(render(["x", lineSuffix("# c"), " y"], 80), "x y # c\n");
});

t.test("an own-line comment starts a line only when the line has code", async (t) => {
  t.equal(render(["a ==", ownLine("# why"), "b"], 80), "a ==\n# why\nb\n");
  t.equal(render(["a ==", indent([ownLine("# why"), "b"])], 80), "a ==\n  # why\n  b\n");
  // After a broken line the comment takes the fresh line; no blank line appears.
  const doc = group(["[", indent([softline, "a", ",", line, ownLine("# c"), "b", ownLine("# end")]), softline, "]"]);
  t.equal(render(doc, 80), "[\n  a,\n  # c\n  b\n  # end\n]\n");
});

t.test("trailing blanks are trimmed and the text ends with one newline", async (t) => {
  t.equal(render(["a  ", hardline, hardline, hardline, "b   ", hardline, hardline], 80), "a\n\n\nb\n");
  t.equal(render(indent([hardline, "x"]), 80), "\n  x\n");
  t.equal(render("", 80), "");
  t.equal(render([hardline, hardline], 80), "");
});
