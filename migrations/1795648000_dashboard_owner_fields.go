package migrations

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The dashboard's record forms showed "Set by the server: the creating
// user." on owner fields that a superuser must fill in there (a superuser is
// no users record, so the server has no one to set). The help now tells both
// paths apart, and a user in the relation picker shows name, email and role
// so "Demo Author" can be told from 150 students.

// ownerHelp is each owner field's help text before and after.
var ownerHelp = []struct{ collection, field, old, new string }{
	{"posts", "author", "Set by the server: the creating user.",
		"API: set by the server to the signed-in user (never sent). Dashboard: pick the post's author."},
	{"comments", "author", "Set by the server: the creating user.",
		"API: set by the server to the signed-in user (never sent). Dashboard: pick the comment's author."},
	{"courses", "instructor", "Set by the server: the creating user.",
		"API: set by the server to the signed-in user (never sent). Dashboard: pick the course's instructor."},
	{"enrollments", "user", "Set by the server: the enrolling user.",
		"API: set by the server to the signed-in user (never sent). Dashboard: pick the enrolled user."},
	{"reviews", "user", "Set by the server: the reviewing user.",
		"API: set by the server to the signed-in user (never sent). Dashboard: pick the reviewer."},
}

// pickerFields are the users fields a relation picker shows.
var pickerFields = []string{"name", "email", "role"}

func init() {
	m.Register(func(app core.App) error {
		return setOwnerFields(app, true)
	}, func(app core.App) error {
		return setOwnerFields(app, false)
	})
}

func setOwnerFields(app core.App, up bool) error {
	for _, h := range ownerHelp {
		c, err := app.FindCollectionByNameOrId(h.collection)
		if err != nil {
			return err
		}
		f, ok := c.Fields.GetByName(h.field).(*core.RelationField)
		if !ok {
			return fmt.Errorf("%s.%s is not a relation field", h.collection, h.field)
		}
		f.Help = h.old
		if up {
			f.Help = h.new
		}
		if err := app.Save(c); err != nil {
			return fmt.Errorf("save %s: %w", h.collection, err)
		}
	}
	users, err := app.FindCollectionByNameOrId("users")
	if err != nil {
		return err
	}
	for _, name := range pickerFields {
		// name was presentable before this migration
		on := up || name == "name"
		switch f := users.Fields.GetByName(name).(type) {
		case *core.TextField:
			f.Presentable = on
		case *core.EmailField:
			f.Presentable = on
		case *core.SelectField:
			f.Presentable = on
		default:
			return fmt.Errorf("users.%s: unexpected field %T", name, f)
		}
	}
	return app.Save(users)
}
