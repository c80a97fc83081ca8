package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Paid courses: orders (one Stripe Checkout Session each) and stripeEvents,
// the ids of the Stripe events already applied, which is what makes a
// replayed or duplicated delivery change nothing.
//
// No client writes either collection through the records API: orders change
// only through internal/checkout's endpoints and Stripe's signed events, so
// their create/update/delete rules are superuser-only (nil).
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		courses, err := app.FindCollectionByNameOrId("courses")
		if err != nil {
			return err
		}

		orders := core.NewBaseCollection("orders")
		orders.Fields.Add(
			// no cascade: an order is a financial record and outlives neither
			// silently; deleting a course or user with orders is refused
			&core.RelationField{Name: "course", CollectionId: courses.Id, MaxSelect: 1, Required: true, Help: "Set by the server: the course bought."},
			&core.RelationField{Name: "user", CollectionId: users.Id, MaxSelect: 1, Required: true, Help: "Set by the server: the buyer."},
			&core.NumberField{Name: "amount", Min: types.Pointer(0.0), Help: "Set by the server: major units, what Stripe says was charged."},
			&core.TextField{Name: "currency", Pattern: `^[A-Z]{3}$`, Help: "Set by the server: ISO 4217 code."},
			&core.SelectField{Name: "status", Required: true, MaxSelect: 1, Values: []string{"pending", "paid", "failed", "expired", "refunded"}},
			&core.TextField{Name: "stripeSessionId", Required: true, Max: 255, Help: "Set by the server: the Checkout Session (cs_...)."},
			&core.TextField{Name: "stripePaymentIntent", Max: 255, Help: "Set by the server: the PaymentIntent (pi_...) once paid."},
			&core.DateField{Name: "paidAt"},
			&core.DateField{Name: "refundedAt"},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		orders.AddIndex("idx_orders_session", true, "stripeSessionId", "")
		// at most one open checkout per buyer and course: a second request
		// (a double click, two tabs) reuses it instead of starting another
		orders.AddIndex("idx_orders_one_pending", true, "user, course", "status = 'pending'")
		orders.AddIndex("idx_orders_user", false, "user", "")
		orders.AddIndex("idx_orders_course", false, "course", "")
		orders.AddIndex("idx_orders_payment_intent", false, "stripePaymentIntent", "")
		read := `@request.auth.id != "" && (user = @request.auth.id || course.instructor = @request.auth.id || ` + ruleAdmin + `)`
		orders.ListRule = types.Pointer(read)
		orders.ViewRule = types.Pointer(read)
		if err := app.Save(orders); err != nil {
			return err
		}

		events := core.NewBaseCollection("stripeEvents")
		events.Fields.Add(
			&core.TextField{Name: "eventId", Required: true, Max: 255, Help: "Stripe's event id (evt_...)."},
			&core.TextField{Name: "type", Required: true, Max: 255},
			&core.TextField{Name: "paymentIntent", Max: 255, Help: "The PaymentIntent the event is about, if any."},
			&core.TextField{Name: "order", Max: 255, Help: "The order the event changed, if any."},
			&core.TextField{Name: "outcome", Max: 255, Help: "What Lectern did with it."},
			&core.JSONField{Name: "detail", MaxSize: 4096, Help: "The few stable fields Lectern read (refund amounts, dispute status)."},
			&core.DateField{Name: "stripeCreated", Help: "When Stripe created the event."},
			&core.AutodateField{Name: "created", OnCreate: true},
		)
		events.AddIndex("idx_stripe_events_event", true, "eventId", "")
		events.AddIndex("idx_stripe_events_pi", false, "paymentIntent", "")
		return app.Save(events)
	}, func(app core.App) error {
		if err := deleteCollection(app, "stripeEvents"); err != nil {
			return err
		}
		return deleteCollection(app, "orders")
	})
}
