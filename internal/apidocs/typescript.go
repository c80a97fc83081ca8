package apidocs

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pocketbase/pocketbase/core"
)

// BuildTypeScript returns TypeScript definitions for the PocketBase JS SDK:
// per collection a record type (select values as unions, typed expand), a
// create and an update input type without the server-set fields, and a
// TypedPocketBase whose collection("name") overloads return services typed
// with them.
func BuildTypeScript(collections []*core.Collection, version string) string {
	m := newModel(collections)
	var w tsWriter
	w.line("// Lectern API types for the PocketBase JS SDK (pocketbase 0.2x).")
	w.line("// Generated from the live schema by `lectern types` (also GET /api/types.d.ts). Do not edit.")
	if version != "" {
		w.line("// Schema version: " + version)
	}
	w.line("//")
	w.line(`//   import PocketBase from "pocketbase";`)
	w.line(`//   ./lectern types --out src/lectern.d.ts   (this file), then in src/:`)
	w.line(`//   import type { TypedPocketBase } from "./lectern";`)
	w.line(`//   const pb = new PocketBase("http://127.0.0.1:8090") as TypedPocketBase;`)
	w.line(`//   const page = await pb.collection("posts").getList(1, 20, { expand: "author" });`)
	w.line(`//   page.items[0].expand?.author?.name; // string | undefined`)
	w.line("")
	w.line(`import type PocketBase from "pocketbase";`)
	w.line(`import type { RecordModel, RecordOptions, RecordService } from "pocketbase";`)
	w.line("")
	w.doc("A record id (15 characters a-z0-9 by default).")
	w.line("export type RecordIdString = string;")
	w.doc(`A date as PocketBase writes it: "YYYY-MM-DD HH:MM:SS.sssZ" in UTC (a space, not RFC 3339's "T"), or "" when not set. Requests also accept RFC 3339.`)
	w.line("export type IsoDateString = string;")
	w.doc("HTML, sanitized on the server.")
	w.line("export type HTMLString = string;")
	w.doc("A stored file's name; its URL is pb.files.getURL(record, name).")
	w.line("export type FileNameString = string;")
	w.doc("A file to upload; the SDK sends the body as multipart/form-data when it holds one.")
	w.line("export type FileUpload = File | Blob;")
	w.line("")

	names := make([]string, 0, len(m.collections))
	for _, c := range m.collections {
		names = append(names, fmt.Sprintf("%q", c.Name))
	}
	w.doc("Every collection name.")
	w.line("export type CollectionName = " + orNever(names) + ";")
	w.line("")

	for _, c := range m.collections {
		writeCollection(&w, m, c)
	}

	w.doc("Records by collection name.")
	w.line("export type CollectionRecords = {")
	for _, c := range m.collections {
		w.line(fmt.Sprintf("  %s: %sRecord;", prop(c.Name), typeName(c.Name)))
	}
	w.line("};")
	w.line("")
	w.doc("Create inputs by collection name.")
	w.line("export type CollectionCreates = {")
	for _, c := range m.collections {
		if !c.IsView() {
			w.line(fmt.Sprintf("  %s: %sCreate;", prop(c.Name), typeName(c.Name)))
		}
	}
	w.line("};")
	w.line("")
	w.doc("Update inputs by collection name.")
	w.line("export type CollectionUpdates = {")
	for _, c := range m.collections {
		if !c.IsView() {
			w.line(fmt.Sprintf("  %s: %sUpdate;", prop(c.Name), typeName(c.Name)))
		}
	}
	w.line("};")
	w.line("")

	writeSearch(&w, m)

	w.doc("A RecordService whose create and update take the collection's input types, so a wrong select value or a server-set field is a type error.")
	w.line("export interface TypedRecordService<R, C extends { [key: string]: any }, U extends { [key: string]: any }> extends RecordService<R> {")
	w.line("  create<T = R>(bodyParams?: C | FormData, options?: RecordOptions): Promise<T>;")
	w.line("  update<T = R>(id: string, bodyParams?: U | FormData, options?: RecordOptions): Promise<T>;")
	w.line("}")
	w.line("")
	w.doc(`The SDK client with typed collections: const pb = new PocketBase(url) as TypedPocketBase.`)
	w.line("export interface TypedPocketBase extends PocketBase {")
	for _, c := range m.collections {
		tn := typeName(c.Name)
		if c.IsView() {
			w.line(fmt.Sprintf("  collection(idOrName: %q): RecordService<%sRecord>;", c.Name, tn))
			continue
		}
		w.line(fmt.Sprintf("  collection(idOrName: %q): TypedRecordService<%sRecord, %sCreate, %sUpdate>;", c.Name, tn, tn, tn))
	}
	w.line("  collection<M = RecordModel>(idOrName: string): RecordService<M>;")
	w.line("}")
	return w.String()
}

// maybeLeftOut are the fields a hook hides from some callers
// (collection.field): users' replyEmailsOff, shown only to its owner and
// admins (internal/mail/account.go).
var maybeLeftOut = map[string]bool{"users.replyEmailsOff": true}

func writeCollection(w *tsWriter, m *model, c *collectionDoc) {
	tn := typeName(c.Name)

	// select unions first: the record and the inputs share them
	for _, f := range c.fields {
		if s, ok := f.Field.(*core.SelectField); ok {
			vals := make([]string, len(s.Values))
			for i, v := range s.Values {
				vals[i] = fmt.Sprintf("%q", v)
			}
			w.doc(fmt.Sprintf("The values of %s.%s.", c.Name, f.name()))
			w.line(fmt.Sprintf("export type %s%sOptions = %s;", tn, typeName(f.name()), orNever(vals)))
		}
	}

	// record
	doc := []string{fmt.Sprintf("A `%s` record as the API returns it.", c.Name)}
	for _, a := range []string{actionList, actionView} {
		rule := c.ListRule
		if a == actionView {
			rule = c.ViewRule
		}
		doc = append(doc, a+": "+ruleLine(c.Name, a, rule))
	}
	w.doc(doc...)
	w.line(fmt.Sprintf("export type %sRecord = {", tn))
	w.field("id", "RecordIdString", false, "")
	w.field("collectionId", "string", false, "")
	w.field("collectionName", fmt.Sprintf("%q", c.Name), false, "")
	for _, f := range c.fields {
		if f.name() == core.FieldNameId {
			continue
		}
		// PocketBase writes every visible field of a record, blank or not
		// ("" / 0 / false / []), so a response field is optional only where
		// it is left out for some callers
		optional := maybeLeftOut[c.Name+"."+f.name()] || c.IsAuth() && f.name() == core.FieldNameEmail
		desc := describeField(f)
		if c.IsAuth() && f.name() == core.FieldNameEmail {
			desc = strings.TrimSpace(desc + " Present only in the caller's own record (and for superusers).")
		}
		w.field(f.name(), tsType(m, c, f, modeResponse), optional, desc)
	}
	if expand := expandType(m, c); expand != "" {
		w.field("expand", expand, true, "Related records, with ?expand=…; a record the caller may not view is left out.")
	}
	w.line("};")
	w.line("")

	if c.IsView() {
		return
	}

	// create
	w.doc(fmt.Sprintf("What a client may send to create a `%s` record.", c.Name), "create: "+ruleLine(c.Name, actionCreate, c.CreateRule))
	w.line(fmt.Sprintf("export type %sCreate = {", tn))
	w.field("id", "RecordIdString", true, "A record id of your own (15 characters a-z0-9); generated otherwise.")
	for _, f := range c.fields {
		if !f.access.inCreate() {
			continue
		}
		w.field(f.name(), tsType(m, c, f, modeJSONCreate), !f.required(), describeField(f))
	}
	if c.IsAuth() {
		w.field("password", "string", false, "")
		w.field("passwordConfirm", "string", false, "The same password again.")
	}
	w.line("};")
	w.line("")

	// update
	w.doc(fmt.Sprintf("What a client may send to update a `%s` record: any subset of the fields.", c.Name), "update: "+ruleLine(c.Name, actionUpdate, c.UpdateRule))
	w.line(fmt.Sprintf("export type %sUpdate = {", tn))
	for _, f := range c.fields {
		if !f.access.inUpdate() {
			continue
		}
		t := tsType(m, c, f, modeJSONUpdate)
		w.field(f.name(), t, true, describeField(f))
		switch ft := f.Field.(type) {
		case *core.NumberField:
			w.field(f.name()+"+", "number", true, "Adds to "+f.name()+".")
			w.field(f.name()+"-", "number", true, "Subtracts from "+f.name()+".")
		case *core.SelectField, *core.RelationField:
			if f.multiple() {
				item := "RecordIdString"
				if _, ok := ft.(*core.SelectField); ok {
					item = tn + typeName(f.name()) + "Options"
				}
				many := item + " | " + item + "[]"
				w.field(f.name()+"+", many, true, "Appends to "+f.name()+".")
				w.field("+"+f.name(), many, true, "Prepends to "+f.name()+".")
				w.field(f.name()+"-", many, true, "Removes from "+f.name()+".")
			}
		case *core.FileField:
			w.field(f.name()+"-", "FileNameString | FileNameString[]", true, "File names to delete from "+f.name()+".")
			if f.multiple() {
				w.field(f.name()+"+", "FileUpload | FileUpload[]", true, "Files to append to "+f.name()+".")
				w.field("+"+f.name(), "FileUpload | FileUpload[]", true, "Files to prepend to "+f.name()+".")
			}
		}
	}
	if c.IsAuth() {
		w.field("oldPassword", "string", true, "The current password; needed to set a new one.")
		w.field("password", "string", true, "")
		w.field("passwordConfirm", "string", true, "The new password again.")
	}
	w.line("};")
	w.line("")
}

func ruleLine(collection, action string, rule *string) string {
	switch {
	case rule == nil:
		return "superusers only."
	}
	if h, ok := hints[collection+":"+action]; ok && h.rule == *rule {
		return lowerFirst(h.who)
	}
	if *rule == "" {
		return "anyone."
	}
	return "rule `" + *rule + "`."
}

func expandType(m *model, c *collectionDoc) string {
	var parts []string
	for _, f := range c.fields {
		rel, ok := f.Field.(*core.RelationField)
		if !ok {
			continue
		}
		target := m.collection(rel.CollectionId)
		if target == nil {
			continue
		}
		t := typeName(target.Name) + "Record"
		if f.multiple() {
			t += "[]"
		}
		parts = append(parts, prop(f.name())+"?: "+t)
	}
	for _, br := range c.backRelations {
		t := typeName(br.collection.Name) + "Record"
		if !br.single {
			t += "[]"
		}
		parts = append(parts, prop(br.expandKey())+"?: "+t)
	}
	if len(parts) == 0 {
		return ""
	}
	return "{ " + strings.Join(parts, "; ") + " }"
}

// tsType is the TypeScript type of a field in a response or a request body.
func tsType(m *model, c *collectionDoc, f fieldDoc, md mode) string {
	resp := md == modeResponse
	list := func(t string) string {
		if f.multiple() {
			if strings.Contains(t, " ") {
				return "Array<" + t + ">"
			}
			return t + "[]"
		}
		return t
	}
	switch t := f.Field.(type) {
	case *core.TextField, *core.EmailField, *core.URLField:
		return "string"
	case *core.EditorField:
		return "HTMLString"
	case *core.NumberField:
		return "number"
	case *core.BoolField:
		return "boolean"
	case *core.DateField, *core.AutodateField:
		return "IsoDateString"
	case *core.SelectField:
		opts := typeName(c.Name) + typeName(f.name()) + "Options"
		if f.multiple() {
			return opts + "[]"
		}
		if !f.required() {
			return opts + ` | ""`
		}
		return opts
	case *core.RelationField:
		_ = t
		return list("RecordIdString")
	case *core.FileField:
		switch {
		case resp:
			return list("FileNameString")
		case md == modeJSONCreate:
			return list("FileUpload")
		default:
			if f.multiple() {
				return "Array<FileUpload | FileNameString>"
			}
			return `FileUpload | ""`
		}
	case *core.JSONField:
		return "unknown"
	case *core.GeoPointField:
		return "{ lon: number; lat: number }"
	}
	return "unknown"
}

// ---

type tsWriter struct{ strings.Builder }

func (w *tsWriter) line(s string) {
	w.WriteString(s)
	w.WriteByte('\n')
}

func (w *tsWriter) doc(lines ...string) {
	var out []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, strings.ReplaceAll(l, "*/", "*\\/"))
		}
	}
	switch len(out) {
	case 0:
	case 1:
		w.line("/** " + out[0] + " */")
	default:
		w.line("/**")
		for _, l := range out {
			w.line(" * " + l)
		}
		w.line(" */")
	}
}

func (w *tsWriter) field(name, typ string, optional bool, desc string) {
	if desc = strings.TrimSpace(desc); desc != "" {
		w.line("  /** " + strings.ReplaceAll(desc, "*/", "*\\/") + " */")
	}
	q := ""
	if optional {
		q = "?"
	}
	w.line(fmt.Sprintf("  %s%s: %s;", prop(name), q, typ))
}

var identRe = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// prop quotes a property name that is not a plain identifier ("completedLessons+").
func prop(name string) string {
	if identRe.MatchString(name) {
		return name
	}
	return fmt.Sprintf("%q", name)
}

func orNever(parts []string) string {
	if len(parts) == 0 {
		return "never"
	}
	return strings.Join(parts, " | ")
}
