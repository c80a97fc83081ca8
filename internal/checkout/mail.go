package checkout

import (
	"fmt"
	"html"
	"net/mail"
	"strconv"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"
)

// sendReceipt mails the buyer a receipt for a newly paid order through
// PocketBase's mailer, when mail is configured (Settings → Mail → SMTP).
// It runs after the fulfilment committed: a mail failure is logged and never
// undoes the purchase.
func (s *Service) sendReceipt(app core.App, order *core.Record) {
	if order == nil || !app.Settings().SMTP.Enabled {
		return
	}
	if err := sendReceipt(app, order); err != nil {
		app.Logger().Error("checkout: receipt mail failed", "order", order.Id, "error", err.Error())
	}
}

func sendReceipt(app core.App, order *core.Record) error {
	user, err := app.FindRecordById("users", order.GetString("user"))
	if err != nil {
		return err
	}
	course, err := app.FindRecordById("courses", order.GetString("course"))
	if err != nil {
		return err
	}
	meta := app.Settings().Meta
	amount := FormatAmount(order.GetFloat("amount"), order.GetString("currency"))
	title := course.GetString("title")
	page := ""
	if meta.AppURL != "" {
		page = coursePage(app, course, "")
	}
	text := fmt.Sprintf("Thank you for your purchase.\n\nCourse: %s\nAmount paid: %s\nOrder: %s\n", title, amount, order.Id)
	body := fmt.Sprintf("<p>Thank you for your purchase.</p><p>Course: <strong>%s</strong><br>Amount paid: %s<br>Order: %s</p>",
		html.EscapeString(title), html.EscapeString(amount), html.EscapeString(order.Id))
	if page != "" {
		text += "\nYour lessons: " + page + "\n"
		body += fmt.Sprintf(`<p><a href="%s">Open your lessons</a></p>`, html.EscapeString(page))
	}
	return app.NewMailClient().Send(&mailer.Message{
		From:    mail.Address{Name: meta.SenderName, Address: meta.SenderAddress},
		To:      []mail.Address{{Address: user.Email(), Name: user.GetString("name")}},
		Subject: "Your receipt: " + title,
		HTML:    body,
		Text:    text,
	})
}

// FormatAmount writes an amount in major units with its currency's decimals:
// "USD 599.00", "JPY 5990".
func FormatAmount(amount float64, currency string) string {
	return currency + " " + strconv.FormatFloat(amount, 'f', Decimals(currency), 64)
}
