package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Extends PocketBase's built-in users collection into Lectern's public profile:
// required display name, avatar with a thumb, bio, website and the role that
// every other rule keys on.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}

		// Anyone may view a profile (expand=author needs it); listing is for admins.
		users.ListRule = types.Pointer(ruleAdmin)
		users.ViewRule = types.Pointer("")
		users.CreateRule = types.Pointer("")
		users.UpdateRule = types.Pointer(`id = @request.auth.id || ` + ruleAdmin)
		users.DeleteRule = types.Pointer(`id = @request.auth.id || ` + ruleAdmin)

		name, _ := users.Fields.GetByName("name").(*core.TextField)
		if name == nil {
			name = &core.TextField{Name: "name"}
		}
		name.Required = true
		name.Min = 1
		name.Max = 100
		name.Presentable = true
		users.Fields.Add(name)

		// svg is left out on purpose: an uploaded svg is a script vector on the site's origin.
		users.Fields.Add(&core.FileField{
			Name:      "avatar",
			MaxSelect: 1,
			MaxSize:   5 << 20,
			MimeTypes: []string{"image/jpeg", "image/png", "image/gif", "image/webp"},
			Thumbs:    []string{"100x100"},
		})
		users.Fields.Add(&core.TextField{Name: "bio", Max: 1000})
		users.Fields.Add(&core.URLField{Name: "website"})
		users.Fields.Add(&core.SelectField{
			Name:      "role",
			MaxSelect: 1,
			Values:    []string{"student", "author", "instructor", "admin"},
			Help:      "Only admins and superusers can change it; sign-ups get student.",
		})

		return app.Save(users)
	}, func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		owner := "id = @request.auth.id"
		users.ListRule = types.Pointer(owner)
		users.ViewRule = types.Pointer(owner)
		users.UpdateRule = types.Pointer(owner)
		users.DeleteRule = types.Pointer(owner)
		users.Fields.RemoveByName("bio")
		users.Fields.RemoveByName("website")
		users.Fields.RemoveByName("role")
		if name, ok := users.Fields.GetByName("name").(*core.TextField); ok {
			name.Required = false
			name.Min = 0
			name.Max = 255
		}
		return app.Save(users)
	})
}
