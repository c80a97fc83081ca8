package webhooks

import (
	"database/sql"
	"errors"
	"net/http"
	"strings"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Route paths (documented in internal/apidocs/webhooks.go).
const (
	RetryDeliveryPath = "/api/webhooks/deliveries/{id}/retry"
	RetryFailedPath   = "/api/webhooks/{id}/retry-failed"
)

// RetryFailedResult is the answer of RetryFailedPath.
type RetryFailedResult struct {
	Retried int `json:"retried"`
}

func (s *Service) bindRoutes() {
	s.app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.POST(RetryDeliveryPath, s.retryDelivery).Bind(apis.RequireAuth())
		se.Router.POST(RetryFailedPath, s.retryFailed).Bind(apis.RequireAuth())
		return se.Next()
	})
}

// manageable loads the webhook id if the caller may manage it (the webhooks
// collection's update rule: admins, and superusers), else nil. As PocketBase
// does for a record a rule hides, the caller cannot tell a webhook it may
// not manage from one that does not exist.
func manageable(e *core.RequestEvent, id string) (*core.Record, error) {
	hook, err := e.App.FindRecordById(Collection, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	info, err := e.RequestInfo()
	if err != nil {
		return nil, err
	}
	ok, err := e.App.CanAccessRecord(hook, info, hook.Collection().UpdateRule)
	if err != nil || !ok {
		return nil, err
	}
	return hook, nil
}

// retryDelivery sends one delivery again at once, whatever its status.
func (s *Service) retryDelivery(e *core.RequestEvent) error {
	// both routes read deliveries: the writes committed before are in them
	if err := s.Materialize(e.Request.Context()); err != nil {
		return e.InternalServerError("", err)
	}
	d, err := e.App.FindRecordById(Deliveries, e.Request.PathValue("id"))
	if errors.Is(err, sql.ErrNoRows) {
		return e.NotFoundError("", nil)
	}
	if err != nil {
		return e.InternalServerError("", err)
	}
	hook, err := manageable(e, d.GetString("webhook"))
	if err != nil {
		return e.InternalServerError("", err)
	}
	if hook == nil {
		return e.NotFoundError("", nil)
	}
	if !hook.GetBool("active") {
		return e.BadRequestError("The webhook is inactive: set it active first.", nil)
	}
	if err := s.queue.RunNow(e.App, d.Id); err != nil {
		return e.InternalServerError("", err)
	}
	d, err = e.App.FindRecordById(Deliveries, d.Id)
	if err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, d)
}

// retryFailed sends again every failed or dead delivery of a webhook created
// at or after "since" (after a receiver's outage).
func (s *Service) retryFailed(e *core.RequestEvent) error {
	hook, err := manageable(e, e.Request.PathValue("id"))
	if err != nil {
		return e.InternalServerError("", err)
	}
	if hook == nil {
		return e.NotFoundError("", nil)
	}
	var body struct {
		Since string `json:"since"`
	}
	if err := e.BindBody(&body); err != nil {
		return e.BadRequestError("Invalid request body.", err)
	}
	since, perr := types.ParseDateTime(strings.TrimSpace(body.Since))
	if body.Since == "" || perr != nil || since.IsZero() {
		return e.BadRequestError("Invalid retry request.", validation.Errors{
			"since": validation.NewError("validation_since", "Must be a date and time, like 2026-12-01T08:00:00Z."),
		})
	}
	if !hook.GetBool("active") {
		return e.BadRequestError("The webhook is inactive: set it active first.", nil)
	}
	if err := s.Materialize(e.Request.Context()); err != nil {
		return e.InternalServerError("", err)
	}
	var ids []string
	err = e.App.DB().Select("id").From(Deliveries).
		Where(dbx.HashExp{"webhook": hook.Id}).
		AndWhere(dbx.In("status", StatusFailed, StatusDead)).
		AndWhere(dbx.NewExp("[[created]] >= {:since}", dbx.Params{"since": since.String()})).
		Column(&ids)
	if err != nil {
		return e.InternalServerError("", err)
	}
	if err := s.queue.RunNow(e.App, ids...); err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, RetryFailedResult{Retried: len(ids)})
}
